// Beta peer for the embedded server: the seed's own TypeScript client (npm openai-realtime-api
// 1.0.8) under Node. Usage: node node_peer.mjs URL SCENARIO [TIMEOUT_MS]  (SCENARIO: text | tool).
// Prints one JSON line: {ok, reply, toolArgs, events} where events are all server events seen.
import { RealtimeClient } from 'openai-realtime-api'

const [url, scenario, timeoutMs = '20000'] = process.argv.slice(2)
const events = []
const client = new RealtimeClient({ url, apiKey: 'sk-test' })
client.on('realtime.event', ({ source, event }) => {
  if (source === 'server') events.push(event)
})
let toolArgs = null
if (scenario === 'tool') {
  client.addTool(
    {
      name: 'add',
      description: 'Add two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
    },
    (args) => {
      toolArgs = args
      return { sum: args.a + args.b }
    },
  )
}

const assistantReply = new Promise((resolve) => {
  client.on('conversation.item.completed', ({ item }) => {
    if (item.type === 'message' && item.role === 'assistant') {
      resolve(item.formatted.transcript || item.formatted.text)
    }
  })
})
const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), Number(timeoutMs)).unref())

try {
  await client.connect()
  await client.waitForSessionCreated()
  const text = scenario === 'tool' ? 'call add with {"a": 2, "b": 40}' : 'hello from node'
  client.sendUserMessageContent([{ type: 'input_text', text }])
  const reply = await Promise.race([assistantReply, timeout])
  // let response.done and rate_limits.updated arrive before closing
  await new Promise((r) => setTimeout(r, 200))
  console.log(JSON.stringify({ ok: true, reply, toolArgs, events }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String(err), events }))
} finally {
  client.disconnect()
}
