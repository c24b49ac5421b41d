// TLS with the stock kafkajs 2.2.4 client against weir: over SSL (`ssl: { ca }`, with
// `cert`/`key` on the listener that requires a client certificate) and over SASL_SSL with
// mechanism 'plain' and 'scram-sha-512', a producer (acks=-1) writes records that a group
// consumer subscribed from the beginning reads back, every one, in order. A client trusting
// another CA fails to connect with Node's certificate error; a wrong password over SASL_SSL
// gets KafkaJSSASLAuthenticationError. Node checks the broker certificate against the
// dialled 127.0.0.1 (tls.checkServerIdentity: the IP SAN).
//
// Run by run.sh, which exports SSL_BOOTSTRAP, SASL_SSL_BOOTSTRAP, MTLS_BOOTSTRAP, the TLS_*
// paths and KAFKAJS_MODULE (the kafkajs suite's installed kafkajs). Prints one
// "PASS security: NAME" or "FAIL security: NAME -- detail" line per scenario.
'use strict'

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const { Kafka, logLevel } = require(process.env.KAFKAJS_MODULE || 'kafkajs')

const CLIENT = process.env.CLIENT_NAME || 'security'
const SCENARIO_TIMEOUT_MS = 40000
const RUN_ID = crypto.randomBytes(4).toString('hex')
const env = name => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}
const ca = [fs.readFileSync(env('TLS_CA'))]
const otherCa = [fs.readFileSync(env('TLS_OTHER_CA'))]
const cert = fs.readFileSync(env('TLS_CLIENT_CERT'))
const key = fs.readFileSync(env('TLS_CLIENT_KEY'))

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
  let cause = err && (err.originalError || err.cause)
  for (let i = 0; cause && i < 3; i++) {
    parts.push(`caused by ${cause.name}: ${cause.message}${cause.code ? ` (${cause.code})` : ''}`)
    cause = cause.originalError || cause.cause
  }
  return parts.join('; ').replace(/\s+/g, ' ')
}

async function scenario (name, body) {
  try {
    await withTimeout(Promise.resolve().then(body), SCENARIO_TIMEOUT_MS, 'scenario')
    console.log(`PASS ${CLIENT}: ${name}`)
  } catch (err) {
    failed++
    console.log(`FAIL ${CLIENT}: ${name} -- ${detailOf(err)}`)
  }
}

const quietly = promise => withTimeout(promise, 3000, 'disconnect').catch(() => {})

function client (brokers, extra) {
  return new Kafka({
    clientId: 'weir-compat-security-kafkajs',
    brokers: [brokers],
    connectionTimeout: 5000,
    requestTimeout: 10000,
    enforceRequestTimeout: true,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    logLevel: process.env.WEIR_COMPAT_DEBUG === '1' ? logLevel.DEBUG : logLevel.NOTHING,
    ...extra
  })
}

// A producer writes 30 records; a group consumer (fresh group, from the beginning) must get
// every one, in order, on the listener the client came in on.
async function roundTrip (kafka, label) {
  const topic = `sec-kafkajs-${label}-${RUN_ID}`
  const admin = kafka.admin()
  const producer = kafka.producer()
  const consumer = kafka.consumer({
    groupId: `g-${topic}`,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 500
  })
  try {
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], timeout: 10000 })
    await producer.connect()
    const sent = Array.from({ length: 30 }, (_, i) => `${label}-${i}`)
    await producer.send({ topic, acks: -1, messages: sent.map(value => ({ value })) })

    const received = []
    let resolveAll, rejectAll
    const all = new Promise((resolve, reject) => { resolveAll = resolve; rejectAll = reject })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const e = payload.error
      rejectAll(new Error(`consumer crashed after ${received.length} messages: ${e && e.name}: ${e && e.message}`))
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        received.push(message.value.toString())
        if (received.length >= sent.length) resolveAll()
      }
    })
    await withTimeout(all, 25000, `receiving ${sent.length} messages (got ${received.length})`)
    assert.deepEqual(received, sent)
  } finally {
    await quietly(consumer.disconnect())
    await quietly(producer.disconnect())
    await quietly(admin.disconnect())
  }
}

// connect() must reject; check(err) says whether it is the expected error.
async function refused (kafka, check, what) {
  const producer = kafka.producer()
  try {
    await producer.connect()
  } catch (err) {
    assert.ok(check(err), `expected ${what}, got ${detailOf(err)}`)
    return
  } finally {
    await quietly(producer.disconnect())
  }
  throw new Error(`connected: expected ${what}`)
}

async function main () {
  const ssl = env('SSL_BOOTSTRAP')
  const saslSsl = env('SASL_SSL_BOOTSTRAP')
  const mtls = env('MTLS_BOOTSTRAP')
  await scenario('kafkajs SSL: produce, group consumer reads back every record (ssl.ca)',
    () => roundTrip(client(ssl, { ssl: { ca } }), 'ssl'))
  await scenario('kafkajs SSL, ssl.client.auth=required: produce and consume with a client certificate',
    () => roundTrip(client(mtls, { ssl: { ca, cert, key } }), 'mtls'))
  for (const [mechanism, username, password] of [['plain', 'alice', 'alice-secret'], ['scram-sha-512', 'admin', 'admin-secret']]) {
    await scenario(`kafkajs SASL_SSL ${mechanism}: produce, group consumer reads back every record`,
      () => roundTrip(client(saslSsl, { ssl: { ca }, sasl: { mechanism, username, password } }), `sasl-ssl-${mechanism}`))
  }
  await scenario('kafkajs SSL: a client trusting another CA fails with a certificate error',
    () => refused(client(ssl, { ssl: { ca: otherCa }, retry: { retries: 0 } }),
      err => /certificate|self.signed|issuer/i.test(detailOf(err)), 'a certificate verification error'))
  await scenario('kafkajs SASL_SSL scram-sha-512: a wrong password gets KafkaJSSASLAuthenticationError',
    () => refused(client(saslSsl, { ssl: { ca }, sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'wrong' }, retry: { retries: 0 } }),
      err => /SASL/.test(err.name) && /Authentication/i.test(detailOf(err)), 'KafkaJSSASLAuthenticationError'))
}

main().then(() => process.exit(failed ? 1 : 0), err => {
  console.log(`FAIL ${CLIENT}: kafkajs scenarios -- ${detailOf(err)}`)
  process.exit(1)
})
