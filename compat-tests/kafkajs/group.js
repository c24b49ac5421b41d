// kafkajs 2.2.4 consumer-group scenario: NOT run by run.sh by default, because weir has no
// consumer groups yet. Run it with `WEIR_COMPAT_GROUPS=1 ./run.sh`, or alone against a broker
// with `node group.js 127.0.0.1:PORT`.
//
// Produces to 3 partitions, then a group consumer (FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, OffsetFetch, Fetch, OffsetCommit, LeaveGroup) subscribed from the beginning must
// receive every message, in order within each partition, with its key, value and headers.
'use strict'

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Kafka, Partitioners, logLevel } = require('kafkajs')

const CLIENT = 'kafkajs'
const NAME = 'group consumer subscribe fromBeginning receives all messages'
const RUN_ID = crypto.randomBytes(4).toString('hex')
const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node group.js BOOTSTRAP')
  process.exit(2)
}

const kafka = new Kafka({
  clientId: 'weir-compat-kafkajs-group',
  brokers: [bootstrap],
  connectionTimeout: 3000,
  requestTimeout: 10000,
  enforceRequestTimeout: true,
  retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
  logLevel: process.env.WEIR_COMPAT_DEBUG === '1' ? logLevel.DEBUG : logLevel.ERROR
})

async function run () {
  const topic = `kafkajs-group-${RUN_ID}`
  const groupId = `kafkajs-group-${RUN_ID}`
  const admin = kafka.admin()
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 500,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 }
  })
  try {
    await admin.connect()
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], timeout: 10000 })
    assert.equal(created, true, 'createTopics returned false')

    await producer.connect()
    const sent = []
    for (let i = 0; i < 30; i++) {
      sent.push({ partition: i % 3, key: `k${i}`, value: `v${i}`, headers: { idx: String(i) } })
    }
    await producer.send({ topic, acks: -1, messages: sent })

    const received = []
    let resolveAll, rejectAll
    const all = new Promise((resolve, reject) => { resolveAll = resolve; rejectAll = reject })
    // A crash means kafkajs gave up after its own retries: fail with its error right away.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const e = payload.error
      rejectAll(new Error(`consumer crashed after ${received.length} messages: ${e && e.name}: ${e && e.message}`))
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: true,
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          key: message.key && message.key.toString(),
          value: message.value && message.value.toString(),
          idx: message.headers && message.headers.idx && message.headers.idx.toString()
        })
        if (received.length >= sent.length) resolveAll()
      }
    })

    let timer
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length} messages within 30 s`)), 30000)
    })
    await Promise.race([all, timeout]).finally(() => clearTimeout(timer))

    assert.equal(received.length, sent.length, `received ${received.length} messages, expected ${sent.length}`)
    for (const p of [0, 1, 2]) {
      const want = sent.filter(m => m.partition === p)
      const got = received.filter(m => m.partition === p)
      assert.equal(got.length, want.length, `partition ${p}: ${got.length} messages, expected ${want.length}`)
      for (let i = 0; i < want.length; i++) {
        assert.equal(got[i].offset, String(i), `partition ${p} message ${i}: offset ${got[i].offset}`)
        assert.equal(got[i].key, want[i].key, `partition ${p} offset ${i}: key ${got[i].key}`)
        assert.equal(got[i].value, want[i].value, `partition ${p} offset ${i}: value ${got[i].value}`)
        assert.equal(got[i].idx, want[i].headers.idx, `partition ${p} offset ${i}: header ${got[i].idx}`)
      }
    }
  } finally {
    await consumer.disconnect().catch(() => {})
    await producer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
  }
}

let hardTimer
const hardTimeout = new Promise((resolve, reject) => {
  hardTimer = setTimeout(() => reject(new Error('scenario did not finish within 90 s')), 90000)
})
Promise.race([run(), hardTimeout])
  .then(() => {
    console.log(`PASS ${CLIENT}: ${NAME}`)
    process.exit(0)
  })
  .catch(err => {
    const detail = `${err.name}: ${err.message}${err.type ? ` type=${err.type}` : ''}`.replace(/\s+/g, ' ')
    console.log(`FAIL ${CLIENT}: ${NAME} -- ${detail}`)
    process.exit(1)
  })
  .finally(() => clearTimeout(hardTimer))
