// Compatibility scenarios for the stock kafkajs 2.2.4 client (admin and producer).
//
// Usage: node test.js BOOTSTRAP
// Prints exactly one line per scenario: "PASS kafkajs: NAME" or "FAIL kafkajs: NAME -- detail".
// kafkajs has only a group consumer, so reading back is in group.js (not run by run.sh until the
// broker has consumer groups); here produced data is checked through the base offsets that
// Produce returns and the high watermarks that ListOffsets returns.
'use strict'

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs')

const CLIENT = 'kafkajs'
const SCENARIO_TIMEOUT_MS = 60000
const RUN_BUDGET_MS = 180000 // all scenarios together: past this, the remaining ones fail as not run
const RUN_DEADLINE = Date.now() + RUN_BUDGET_MS
const RUN_ID = crypto.randomBytes(4).toString('hex')
const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node test.js BOOTSTRAP')
  process.exit(2)
}

let failed = 0

function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function detailOf (err) {
  const parts = [err && err.name ? `${err.name}: ${err.message}` : String(err)]
  if (err && err.type) parts.push(`type=${err.type}`)
  if (err && err.code !== undefined) parts.push(`code=${err.code}`)
  let cause = err && (err.originalError || err.cause)
  for (let i = 0; cause && i < 3; i++) {
    parts.push(`caused by ${cause.name}: ${cause.message}`)
    cause = cause.originalError || cause.cause
  }
  return parts.join('; ').replace(/\s+/g, ' ')
}

async function scenario (name, body) {
  const budget = Math.min(SCENARIO_TIMEOUT_MS, RUN_DEADLINE - Date.now())
  if (budget <= 0) {
    skip(name, `the run's budget of ${RUN_BUDGET_MS / 1000} s is used up`)
    return false
  }
  try {
    await withTimeout(Promise.resolve().then(body), budget, 'scenario')
    console.log(`PASS ${CLIENT}: ${name}`)
    return true
  } catch (err) {
    failed++
    console.log(`FAIL ${CLIENT}: ${name} -- ${detailOf(err)}`)
    return false
  }
}

// Disconnects without letting a dead broker hold the run up.
const quietly = promise => withTimeout(promise, 3000, 'disconnect').catch(() => {})

function skip (name, because) {
  failed++
  console.log(`FAIL ${CLIENT}: ${name} -- not run: ${because}`)
}

const topicName = s => `kafkajs-${s}-${RUN_ID}`

const kafka = new Kafka({
  clientId: 'weir-compat-kafkajs',
  brokers: [bootstrap],
  connectionTimeout: 3000,
  requestTimeout: 10000,
  enforceRequestTimeout: true,
  retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
  logLevel: process.env.WEIR_COMPAT_DEBUG === '1' ? logLevel.DEBUG : logLevel.ERROR
})

// Polls fn until it returns a truthy value, with a deadline; returns the last value.
async function pollUntil (fn, ms, what) {
  const end = Date.now() + ms
  let last
  for (;;) {
    last = await fn()
    if (last.ok) return last
    if (Date.now() > end) throw new Error(`${what} (after ${ms} ms): ${last.detail}`)
    await new Promise(resolve => setTimeout(resolve, 100)) // polling interval, bounded above
  }
}

async function highWatermarks (admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic)
  const byPartition = {}
  for (const o of offsets) byPartition[o.partition] = { high: o.high, low: o.low, offset: o.offset }
  return byPartition
}

async function createTopic (admin, topic, numPartitions) {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions, replicationFactor: 1 }],
    waitForLeaders: true,
    timeout: 10000
  })
  assert.equal(created, true, `createTopics(${topic}) returned ${created}, expected true`)
}

function messages (prefix, n, extra = {}) {
  const out = []
  for (let i = 0; i < n; i++) {
    out.push({ key: `${prefix}-k${i}`, value: `${prefix}-v${i}-${'p'.repeat(i)}`, headers: { idx: String(i) }, ...extra })
  }
  return out
}

function checkMetadata (res, topic, partitions, baseOffsets) {
  // res: RecordMetadata[] = [{ topicName, partition, errorCode, baseOffset, ... }]
  assert.ok(Array.isArray(res), `send returned ${JSON.stringify(res)}`)
  assert.equal(res.length, partitions.length, `send returned ${JSON.stringify(res)}`)
  for (let i = 0; i < partitions.length; i++) {
    const r = res.find(x => x.partition === partitions[i])
    assert.ok(r, `no RecordMetadata for partition ${partitions[i]}: ${JSON.stringify(res)}`)
    assert.equal(r.topicName, topic, `topicName ${r.topicName}`)
    assert.equal(r.errorCode, 0, `partition ${r.partition} errorCode ${r.errorCode}`)
    assert.equal(String(r.baseOffset), String(baseOffsets[i]),
      `partition ${r.partition} baseOffset ${r.baseOffset}, expected ${baseOffsets[i]}`)
  }
}

async function main () {
  const admin = kafka.admin()
  const adminConnected = await scenario('admin connect + describeCluster (ApiVersions, Metadata)', async () => {
    await admin.connect()
    const cluster = await admin.describeCluster()
    assert.equal(cluster.brokers.length, 1, `describeCluster brokers ${JSON.stringify(cluster.brokers)}`)
    assert.equal(cluster.brokers[0].host, bootstrap.split(':')[0], `broker host ${cluster.brokers[0].host}`)
    assert.equal(String(cluster.brokers[0].port), bootstrap.split(':')[1], `broker port ${cluster.brokers[0].port}`)
    assert.ok(cluster.clusterId, `clusterId ${cluster.clusterId}`)
  })
  if (!adminConnected) {
    // Nothing else can run: fail them all (the names stay the same as in a full run).
    for (const n of ALL_SCENARIOS.slice(1)) skip(n, 'admin could not connect')
    return
  }

  // ---- Admin: createTopics / listTopics / fetchTopicMetadata / fetchTopicOffsets / deleteTopics
  const adminTopic = topicName('admin')
  const created = await scenario('admin createTopics (3 partitions)', () => createTopic(admin, adminTopic, 3))
  if (created) {
    await scenario('admin createTopics of an existing topic returns false (TOPIC_ALREADY_EXISTS)', async () => {
      const again = await admin.createTopics({ topics: [{ topic: adminTopic, numPartitions: 3 }], timeout: 10000 })
      assert.equal(again, false, `second createTopics returned ${again}`)
    })
    await scenario('admin listTopics', async () => {
      const topics = await admin.listTopics()
      assert.ok(topics.includes(adminTopic), `listTopics lacks ${adminTopic}: ${JSON.stringify(topics)}`)
    })
    await scenario('admin fetchTopicMetadata (3 partitions led by the broker)', async () => {
      const cluster = await admin.describeCluster()
      assert.equal(cluster.brokers.length, 1, `describeCluster brokers ${JSON.stringify(cluster.brokers)}`)
      const nodeId = cluster.brokers[0].nodeId
      assert.equal(cluster.controller, nodeId, `controller ${cluster.controller}, expected ${nodeId}`)
      const md = await admin.fetchTopicMetadata({ topics: [adminTopic] })
      assert.equal(md.topics.length, 1, `topics ${JSON.stringify(md.topics)}`)
      const t = md.topics[0]
      assert.equal(t.name, adminTopic)
      assert.equal(t.partitions.length, 3, `partitions ${JSON.stringify(t.partitions)}`)
      const ids = t.partitions.map(p => p.partitionId).sort()
      assert.deepEqual(ids, [0, 1, 2], `partition ids ${ids}`)
      for (const p of t.partitions) {
        assert.equal(p.partitionErrorCode, 0, `partition ${p.partitionId} error ${p.partitionErrorCode}`)
        assert.equal(p.leader, nodeId, `partition ${p.partitionId} leader ${p.leader}, expected ${nodeId}`)
        assert.deepEqual(p.replicas, [nodeId], `partition ${p.partitionId} replicas ${p.replicas}`)
        assert.deepEqual(p.isr, [nodeId], `partition ${p.partitionId} isr ${p.isr}`)
      }
    })
    await scenario('admin fetchTopicOffsets of an empty topic (0/0 on 3 partitions)', async () => {
      const hw = await highWatermarks(admin, adminTopic)
      assert.deepEqual(Object.keys(hw).map(Number).sort(), [0, 1, 2], `partitions ${JSON.stringify(hw)}`)
      for (const p of [0, 1, 2]) {
        assert.equal(hw[p].high, '0', `partition ${p}: ${JSON.stringify(hw[p])}`)
        assert.equal(hw[p].low, '0', `partition ${p}: ${JSON.stringify(hw[p])}`)
      }
    })
    await scenario('admin deleteTopics', async () => {
      await admin.deleteTopics({ topics: [adminTopic], timeout: 10000 })
      await pollUntil(async () => {
        const topics = await admin.listTopics()
        return { ok: !topics.includes(adminTopic), detail: `still listed: ${JSON.stringify(topics)}` }
      }, 10000, 'topic still listed after deleteTopics')
    })
  } else {
    for (const n of ADMIN_SCENARIOS) skip(n, 'createTopics failed')
  }

  // ---- Producer: acks -1, acks 1, GZIP, acks 0, idempotent
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  // connect() is a no-op once connected; each scenario calls it so that none depends on another.
  const produceScenario = (name, topicSuffix, partitions, body) => scenario(name, async () => {
    await producer.connect()
    const topic = topicName(topicSuffix)
    await createTopic(admin, topic, partitions)
    await body(topic)
  })

  await produceScenario('producer.send acks -1: base offsets and high watermarks', 'acks-all', 1, async topic => {
    checkMetadata(await producer.send({ topic, acks: -1, timeout: 10000, messages: messages('a', 5, { partition: 0 }) }), topic, [0], [0])
    checkMetadata(await producer.send({ topic, acks: -1, timeout: 10000, messages: messages('b', 3, { partition: 0 }) }), topic, [0], [5])
    const hw = await highWatermarks(admin, topic)
    assert.equal(hw[0].high, '8', `high watermark ${JSON.stringify(hw[0])}, expected 8`)
    assert.equal(hw[0].low, '0', `low watermark ${JSON.stringify(hw[0])}, expected 0`)
  })

  await produceScenario('producer.send acks 1 to 3 partitions in one request', 'acks-leader', 3, async topic => {
    const msgs = [
      ...messages('p0', 4, { partition: 0 }),
      ...messages('p1', 2, { partition: 1 }),
      ...messages('p2', 1, { partition: 2 })
    ]
    checkMetadata(await producer.send({ topic, acks: 1, timeout: 10000, messages: msgs }), topic, [0, 1, 2], [0, 0, 0])
    checkMetadata(await producer.send({ topic, acks: 1, timeout: 10000, messages: messages('q', 2, { partition: 1 }) }), topic, [1], [2])
    const hw = await highWatermarks(admin, topic)
    assert.deepEqual([hw[0].high, hw[1].high, hw[2].high], ['4', '4', '1'], `high watermarks ${JSON.stringify(hw)}`)
  })

  await produceScenario('producer.send GZIP compressed (acks -1)', 'gzip', 1, async topic => {
    const big = messages('gz', 20, { partition: 0 }).map(m => ({ ...m, value: m.value + 'z'.repeat(500) }))
    checkMetadata(await producer.sendBatch({
      acks: -1, timeout: 10000, compression: CompressionTypes.GZIP, topicMessages: [{ topic, messages: big }]
    }), topic, [0], [0])
    checkMetadata(await producer.send({
      topic, acks: -1, timeout: 10000, compression: CompressionTypes.GZIP, messages: messages('gz2', 4, { partition: 0 })
    }), topic, [0], [20])
    const hw = await highWatermarks(admin, topic)
    assert.equal(hw[0].high, '24', `high watermark ${JSON.stringify(hw[0])}, expected 24`)
  })

  await produceScenario('producer.send acks 0 (no response; high watermark advances)', 'acks-none', 1, async topic => {
    for (let i = 0; i < 3; i++) {
      await producer.send({ topic, acks: 0, timeout: 10000, messages: messages(`z${i}`, 2, { partition: 0 }) })
    }
    // A later acks=-1 send on the same connection must still get its own answer.
    checkMetadata(await producer.send({ topic, acks: -1, timeout: 10000, messages: messages('after', 1, { partition: 0 }) }), topic, [0], [6])
    await pollUntil(async () => {
      const hw = await highWatermarks(admin, topic)
      return { ok: hw[0].high === '7', detail: JSON.stringify(hw[0]) }
    }, 10000, 'high watermark did not reach 7')
  })

  await quietly(producer.disconnect())

  const idemName = 'idempotent producer (InitProducerId, acks -1) base offsets'
  await scenario(idemName, async () => {
    const topic = topicName('idempotent')
    await createTopic(admin, topic, 1)
    const idem = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    await idem.connect()
    try {
      checkMetadata(await idem.send({ topic, acks: -1, timeout: 10000, messages: messages('i', 5, { partition: 0 }) }), topic, [0], [0])
      checkMetadata(await idem.send({ topic, acks: -1, timeout: 10000, messages: messages('j', 5, { partition: 0 }) }), topic, [0], [5])
      const hw = await highWatermarks(admin, topic)
      assert.equal(hw[0].high, '10', `high watermark ${JSON.stringify(hw[0])}, expected 10`)
    } finally {
      await quietly(idem.disconnect())
    }
  })

  await quietly(admin.disconnect())
}

const ADMIN_SCENARIOS = [
  'admin createTopics of an existing topic returns false (TOPIC_ALREADY_EXISTS)',
  'admin listTopics',
  'admin fetchTopicMetadata (3 partitions led by the broker)',
  'admin fetchTopicOffsets of an empty topic (0/0 on 3 partitions)',
  'admin deleteTopics'
]
const ALL_SCENARIOS = [
  'admin connect + describeCluster (ApiVersions, Metadata)',
  'admin createTopics (3 partitions)',
  ...ADMIN_SCENARIOS,
  'producer.send acks -1: base offsets and high watermarks',
  'producer.send acks 1 to 3 partitions in one request',
  'producer.send GZIP compressed (acks -1)',
  'producer.send acks 0 (no response; high watermark advances)',
  'idempotent producer (InitProducerId, acks -1) base offsets'
]

main()
  .catch(err => {
    failed++
    console.log(`FAIL ${CLIENT}: test program -- ${detailOf(err)}`)
  })
  .finally(() => process.exit(failed === 0 ? 0 : 1))
