// Child process for the kill -9 durability test: appends records forever, printing the
// seq of each one only after its write resolved (= acknowledged).
import { DatasetStore } from '../../src/storage/dataset.js';

const store = await DatasetStore.open(process.argv[2]!);
const inbox = await store.enqueue('room/chat/t1', { room: 'room', channel: 'chat', thread: 't1', from: { id: 'u1' }, text: 'queued before crash' });
process.stdout.write(`inbox ${inbox.id}\n`);
for (let i = 0; ; i++) {
  const r = await store.append('room/chat/t1', { kind: 'message', role: 'user', text: `m${i}` });
  process.stdout.write(`ack ${r.seq} m${i}\n`);
}
