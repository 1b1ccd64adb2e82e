// Runs event traces through the seed's RealtimeConversation (npm openai-realtime-api 1.0.8).
//
// The differential oracle for realtime_widget.conversation: one process per test batch.
// stdin: JSON lines, one op each:
//   {"op": "new", "frequency": 24000}   a fresh conversation and input buffer
//   {"op": "event", "event": {...}}     a beta server event, fed as the seed client feeds it:
//                                        only types the seed has a processor for, and
//                                        speech_stopped gets the session's input audio buffer
//   {"op": "append", "audio": "<b64>"}  input audio the client sent (RealtimeClient.appendInputAudio)
//   {"op": "queue", "audio": "<b64>"}   conversation.queueInputAudio (manual turn commit)
//   {"op": "raw", "event": {...}}       processEvent(event) unfiltered (to show where it throws)
//   {"op": "dump"}                      print the items, one JSON line
// stdout: one JSON line per dump: {"items": [...], "errors": [...]}.
import { createInterface } from 'node:readline'
import { RealtimeConversation } from 'openai-realtime-api'

const int16FromB64 = (b64) => {
  const bytes = Buffer.from(b64, 'base64')
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return new Int16Array(copy.buffer)
}
const b64FromInt16 = (arr) =>
  arr ? Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).toString('base64') : ''

let conversation = new RealtimeConversation()
let inputChunks = []
let errors = []

const inputBuffer = () => {
  let total = 0
  for (const c of inputChunks) total += c.length
  const out = new Int16Array(total)
  let offset = 0
  for (const c of inputChunks) {
    out.set(c, offset)
    offset += c.length
  }
  inputChunks = [out]
  return out
}

const dump = () => ({
  items: conversation.getItems().map((item) => ({
    id: item.id ?? null,
    type: item.type ?? null,
    role: item.role ?? null,
    status: item.status ?? null,
    text: item.formatted.text ?? null,
    transcript: item.formatted.transcript ?? null,
    audio: b64FromInt16(item.formatted.audio),
    audio_length: item.formatted.audio ? item.formatted.audio.length : 0,
    tool: item.formatted.tool ?? null,
    output: item.formatted.output ?? null,
  })),
  errors,
})

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  const op = JSON.parse(line)
  if (op.op === 'new') {
    conversation = new RealtimeConversation({ frequency: op.frequency ?? 24000 })
    inputChunks = []
    errors = []
  } else if (op.op === 'append') {
    inputChunks.push(int16FromB64(op.audio))
  } else if (op.op === 'queue') {
    conversation.queueInputAudio(int16FromB64(op.audio))
  } else if (op.op === 'event') {
    const event = op.event
    // The seed client subscribes only to the events it has processors for.
    if (!conversation.EventProcessors[event.type]) continue
    try {
      if (event.type === 'input_audio_buffer.speech_stopped') {
        conversation.processEvent(event, inputBuffer())
      } else {
        conversation.processEvent(event)
      }
    } catch (err) {
      errors.push(`${event.type}: ${err.message}`)
    }
  } else if (op.op === 'raw') {
    try {
      conversation.processEvent(op.event)
    } catch (err) {
      errors.push(`${op.event.type}: ${err.message}`)
    }
  } else if (op.op === 'dump') {
    process.stdout.write(JSON.stringify(dump()) + '\n')
  }
}
