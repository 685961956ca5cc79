// A local OTLP/HTTP traces receiver for the tests (an HTTP server on 127.0.0.1 in this process) and a small
// protobuf reader that decodes what it got into spans: the fields of opentelemetry-proto's
// ExportTraceServiceRequest the tests assert on (trace and span ids, parent span id, name, string
// attributes, the resource's attributes). Malformed bytes throw: a test asserts on structure, not substrings.
import http from 'node:http'

/** The fields of a protobuf message, in order: [number, value] (a BigInt for a varint, bytes otherwise). */
export function* fields(buf) {
  let i = 0
  const varint = () => {
    let value = 0n
    for (let shift = 0n; ; shift += 7n) {
      if (i >= buf.length || shift > 63n) throw new Error('truncated or overlong varint')
      const b = buf[i++]
      value |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return value
    }
  }
  const take = (n) => {
    if (i + n > buf.length) throw new Error('field past the end of the message')
    const out = buf.subarray(i, i + n)
    i += n
    return out
  }
  while (i < buf.length) {
    const key = Number(varint())
    const [number, wire] = [key >>> 3, key & 7]
    if (number === 0) throw new Error('field number 0')
    if (wire === 0) yield [number, varint()]
    else if (wire === 1) yield [number, take(8)]
    else if (wire === 2) yield [number, take(Number(varint()))]
    else if (wire === 5) yield [number, take(4)]
    else throw new Error(`wire type ${wire}`)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** opentelemetry.proto.common.v1.KeyValue as [key, value] (the AnyValue's string, bool, int or double). */
function keyValue(buf) {
  let key = ''
  let value
  for (const [n, v] of fields(buf)) {
    if (n === 1) key = utf8.decode(v)
    else if (n === 2) {
      for (const [m, w] of fields(v)) {
        if (m === 1) value = utf8.decode(w)
        else if (m === 2) value = w !== 0n
        else if (m === 3) value = BigInt.asIntN(64, w)
        else if (m === 4) value = Buffer.from(w).readDoubleLE(0)
      }
    }
  }
  return [key, value]
}

/** opentelemetry.proto.trace.v1.Span: the fields the tests read. */
function span(buf) {
  const out = { traceId: '', spanId: '', parentSpanId: '', name: '', attributes: {} }
  for (const [n, v] of fields(buf)) {
    if (n === 1) out.traceId = Buffer.from(v).toString('hex')
    else if (n === 2) out.spanId = Buffer.from(v).toString('hex')
    else if (n === 4) out.parentSpanId = Buffer.from(v).toString('hex')
    else if (n === 5) out.name = utf8.decode(v)
    else if (n === 9) {
      const [k, value] = keyValue(v)
      out.attributes[k] = value
    }
  }
  return out
}

/** An ExportTraceServiceRequest's spans and its resources' attributes. */
export function decodeRequest(buf) {
  const spans = []
  const resources = []
  for (const [n, resourceSpans] of fields(buf)) {
    if (n !== 1) continue
    for (const [m, v] of fields(resourceSpans)) {
      if (m === 1) {
        const attributes = {}
        for (const [k, kv] of fields(v)) {
          if (k === 1) {
            const [key, value] = keyValue(kv)
            attributes[key] = value
          }
        }
        resources.push(attributes)
      } else if (m === 2) {
        for (const [k, s] of fields(v)) if (k === 2) spans.push(span(s))
      }
    }
  }
  return { spans, resources }
}

/** A receiver on a free loopback port: `url` (its traces URL), `take()` (what arrived since the last take). */
export async function receiver() {
  let bodies = []
  const contentTypes = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks))
      contentTypes.push(req.headers['content-type'])
      res.writeHead(req.url === '/v1/traces' && req.method === 'POST' ? 200 : 404, {
        'content-type': 'application/x-protobuf',
        'content-length': '0',
      })
      res.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/traces`,
    contentTypes,
    take() {
      const taken = bodies
      bodies = []
      const decoded = taken.map(decodeRequest)
      return {
        raw: Buffer.concat(taken),
        spans: decoded.flatMap((d) => d.spans),
        resources: decoded.flatMap((d) => d.resources),
      }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** A fresh W3C traceparent and its ids (hex). */
export function newParent(sampled = true) {
  const traceId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
  const spanId = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex')
  return { traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`, traceId, spanId }
}
