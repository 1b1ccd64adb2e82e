// Replays a beta event trace through the seed's RealtimeConversation and times it.
//
// Usage: node bench/js/seed_replay.mjs TRACE.jsonl REPEAT
// TRACE.jsonl holds one beta server event per line. The whole file is parsed before timing, so
// only processEvent is measured, fed as the seed client feeds it (types it has processors for).
// Times are CPU time of the process (user + system), like the Python side: the machine is shared.
// Prints {"runs_ms": [...], "wall_ms": [...], "events": n, "items": n, "audio_samples": n}.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { RealtimeConversation } from 'openai-realtime-api'

const [path, repeatArg] = process.argv.slice(2)
const events = readFileSync(path, 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line))
const repeat = Number(repeatArg ?? 1)

const runsMs = []
const wallMs = []
let conversation
for (let r = 0; r < repeat; r++) {
  conversation = new RealtimeConversation()
  const processors = conversation.EventProcessors
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  for (const event of events) {
    if (processors[event.type]) conversation.processEvent(event)
  }
  const cpu = process.cpuUsage(c0)
  runsMs.push((cpu.user + cpu.system) / 1000)
  wallMs.push(performance.now() - t0)
}

let samples = 0
for (const item of conversation.getItems()) samples += item.formatted.audio.length
process.stdout.write(
  JSON.stringify({
    runs_ms: runsMs,
    wall_ms: wallMs,
    events: events.length,
    items: conversation.getItems().length,
    audio_samples: samples,
  }) + '\n',
)
