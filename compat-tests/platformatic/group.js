// @platformatic/kafka 1.35 consumer-group scenario: NOT run by run.sh by default, because weir
// has no consumer groups yet and the library's streaming consumer (consumer.consume) always
// joins a group. Run it with `WEIR_COMPAT_GROUPS=1 ./run.sh`, or alone with `node group.js HOST:PORT`.
//
// Produces to 3 partitions, then consume({ mode: 'earliest' }) (FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, OffsetFetch, Fetch, OffsetCommit, LeaveGroup) must deliver every message,
// in order within each partition, with key, value and headers.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { Admin, Consumer, Producer, ProduceAcks, MessagesStreamModes, stringSerializers, stringDeserializers } from '@platformatic/kafka'

const CLIENT = 'platformatic'
const NAME = 'group consumer consume(mode earliest) receives all messages'
const RUN_ID = crypto.randomBytes(4).toString('hex')
const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node group.js BOOTSTRAP')
  process.exit(2)
}
const common = { clientId: 'weir-compat-platformatic-group', bootstrapBrokers: [bootstrap], connectTimeout: 3000, requestTimeout: 10000, timeout: 10000, retries: 2, retryDelay: 250 }

const topic = `platformatic-group-${RUN_ID}`
const admin = new Admin(common)
const producer = new Producer({ ...common, serializers: stringSerializers })
const consumer = new Consumer({
  ...common,
  groupId: `platformatic-group-${RUN_ID}`,
  deserializers: stringDeserializers,
  sessionTimeout: 10000,
  rebalanceTimeout: 10000,
  heartbeatInterval: 1000,
  maxWaitTime: 500
})

async function run () {
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
  const sent = []
  for (let i = 0; i < 30; i++) sent.push({ topic, partition: i % 3, key: `k${i}`, value: `v${i}`, headers: { idx: String(i) } })
  await producer.send({ messages: sent, acks: ProduceAcks.ALL })

  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: true })
  const received = []
  try {
    for await (const m of stream) {
      received.push({ partition: m.partition, offset: m.offset, key: m.key, value: m.value, idx: m.headers.get('idx') })
      if (received.length >= sent.length) break
    }
  } finally {
    await stream.close().catch(() => {})
  }
  for (const p of [0, 1, 2]) {
    const want = sent.filter(m => m.partition === p)
    const got = received.filter(m => m.partition === p)
    assert.equal(got.length, want.length, `partition ${p}: ${got.length} messages, expected ${want.length}`)
    for (let i = 0; i < want.length; i++) {
      assert.equal(got[i].offset, BigInt(i), `partition ${p} message ${i}: offset ${got[i].offset}`)
      assert.equal(got[i].key, want[i].key, `partition ${p} offset ${i}: key ${got[i].key}`)
      assert.equal(got[i].value, want[i].value, `partition ${p} offset ${i}: value ${got[i].value}`)
      assert.equal(got[i].idx, want[i].headers.idx, `partition ${p} offset ${i}: header ${got[i].idx}`)
    }
  }
}

let timer
let code = 0
try {
  await Promise.race([
    run(),
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('scenario did not finish within 60 s')), 60000) })
  ])
  console.log(`PASS ${CLIENT}: ${NAME}`)
} catch (err) {
  code = 1
  console.log(`FAIL ${CLIENT}: ${NAME} -- ${`${err.name}: ${err.message}`.replace(/\s+/g, ' ')}`)
} finally {
  clearTimeout(timer)
}
await Promise.race([
  Promise.allSettled([consumer.close(true), producer.close(), admin.close()]),
  new Promise(resolve => setTimeout(resolve, 3000))
])
process.exit(code)
