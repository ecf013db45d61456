// The audit log for staff (auditors above all): read with filters and keyset pages, verify it, and fetch signed
// checkpoints, entries and proofs (the rules live in src/registry/audit-log.ts). Contractor tokens never reach it (every
// field and type asks for a staff token).
import {
  auditCheckpoint,
  auditCheckpoints,
  auditEntries,
  auditLogFilters,
  auditLogHead,
  consistencyProof,
  evidenceRows,
  evidenceTables,
  inclusionProof,
  verifyAuditLog,
  type AuditLogVerification,
  type Checkpoint,
  type EvidenceRowPage,
  type InclusionProof,
  type LogEntry,
} from '../registry/audit-log.js';
import { builder } from './builder.js';

builder.drizzleObject('auditSeals', {
  name: 'AuditSeal',
  description: "An event's place in the log, given by the sealer a moment after the event was written.",
  fields: (t) => ({
    position: t.exposeInt('position', { description: 'Place in the log: gapless from 1, never changed.' }),
    leafHash: t.exposeString('leafHash', { description: 'RFC 9162 leaf hash: SHA-256(0x00 || entry), hex.' }),
    prevHash: t.exposeString('prevHash'),
    hash: t.exposeString('hash', { description: 'SHA-256 over prevHash and the entry: the hash chain.' }),
  }),
});

builder.drizzleNode('auditEvents', {
  name: 'AuditEvent',
  id: { column: (e) => e.seq },
  authScopes: { staff: true },
  description: 'One change (or record fetch); its place in the Merkle log is `seal`.',
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Number given when written: order of writing, gaps allowed.' }),
    seal: t.relation('seal', { nullable: true, description: 'Null until the sealer has placed it in the log.' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actor: t.exposeString('actor'),
    actorRole: t.exposeString('actorRole'),
    action: t.exposeString('action'),
    entityType: t.exposeString('entityType'),
    entityId: t.exposeString('entityId'),
    before: t.expose('before', { type: 'JSON', nullable: true }),
    after: t.expose('after', { type: 'JSON', nullable: true }),
    rowHashes: t.expose('rowHashes', {
      type: 'JSON',
      description:
        "The content hash of every evidence row the change wrote, [{table, key, hash}] (hash null: deleted); part of this event's log entry when non-empty.",
    }),
  }),
});

const BrokenEvent = builder.objectRef<{ seq: number; reason: string }>('AuditChainBreak').implement({
  fields: (t) => ({ seq: t.exposeInt('seq'), reason: t.exposeString('reason') }),
});

const RowProblem = builder.objectRef<AuditLogVerification['rows']['problems'][number]>('AuditRowProblem').implement({
  description: 'An evidence row that does not match the latest event naming it.',
  fields: (t) => ({
    table: t.exposeString('table'),
    key: t.exposeString('key', { description: 'Its primary key; a composite one as a JSON array of text.' }),
    seq: t.exposeInt('seq', { nullable: true, description: 'The latest event naming the row; null: none does.' }),
    reason: t.exposeString('reason'),
  }),
});

const RowVerification = builder.objectRef<AuditLogVerification['rows']>('AuditRowVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checked: t.exposeInt('checked', { description: 'Evidence rows re-hashed.' }),
    unattested: t.exposeInt('unattested', {
      description: 'Rows of policy and taxonomy tables as the migrations seeded them, named by no event.',
    }),
    archived: t.exposeInt('archived', {
      description: 'Transfers an event names that were archived with their month: in the archive files, not re-hashed.',
    }),
    problemCount: t.exposeInt('problemCount'),
    problems: t.field({
      type: [RowProblem],
      description: 'The first 100 problems, table by table.',
      resolve: (v) => v.problems,
    }),
  }),
});

const Verification = builder.objectRef<AuditLogVerification>('AuditLogVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'The chain is whole and every evidence row matches its event.' }),
    checked: t.exposeInt('checked', { description: 'Sealed events whose hashes were recomputed and matched.' }),
    headSeq: t.exposeInt('headSeq', { description: 'Position of the last event checked.' }),
    pending: t.exposeInt('pending', { description: 'Events written but not sealed yet: not covered.' }),
    archived: t.exposeInt('archived', {
      description:
        'Sealed events archived with their month: their stored leaves and links were checked against the checkpoints, their content not re-hashed (it is in the archive files).',
    }),
    headHash: t.exposeString('headHash'),
    firstBroken: t.field({ type: BrokenEvent, nullable: true, resolve: (v) => v.firstBroken }),
    rows: t.field({ type: RowVerification, resolve: (v) => v.rows }),
  }),
});

const CheckpointRef = builder.objectRef<Checkpoint>('AuditCheckpoint').implement({
  description:
    'A signed tree head: Ed25519 over "origin\\ntreeSize\\nrootHash\\nissuedAt\\n" with the key keyId of /.well-known/audit-checkpoint-keys.json.',
  fields: (t) => ({
    origin: t.exposeString('origin'),
    treeSize: t.exposeInt('treeSize'),
    rootHash: t.exposeString('rootHash', { description: 'RFC 9162 root of the first treeSize events, hex.' }),
    issuedAt: t.exposeString('issuedAt'),
    keyId: t.exposeString('keyId'),
    signature: t.exposeString('signature', { description: 'base64url.' }),
  }),
});

const EntryRef = builder.objectRef<LogEntry>('AuditLogEntry').implement({
  fields: (t) => ({
    position: t.exposeInt('position'),
    entry: t.exposeString('entry', {
      nullable: true,
      description:
        "The event's canonical JSON as its fields read now: what its leaf hash covers. Null when the event was archived with its month (its entry is in the archive's file; its leaf is still in the tree).",
    }),
    archived: t.exposeBoolean('archived', {
      description: "The event's row was archived with its month: prove its inclusion from leafHash.",
    }),
    leafHash: t.exposeString('leafHash', { description: 'The leaf hash stored when it was sealed.' }),
  }),
});

const InclusionRef = builder.objectRef<InclusionProof>('InclusionProof').implement({
  fields: (t) => ({
    position: t.exposeInt('position'),
    treeSize: t.exposeInt('treeSize'),
    entry: t.field({ type: EntryRef, resolve: (p) => p.entry }),
    path: t.exposeStringList('path', { description: 'RFC 9162 §2.1.3 audit path, hex, leaf to root.' }),
  }),
});

const ConsistencyRef = builder.objectRef<{ from: number; to: number; path: string[] }>('ConsistencyProof').implement({
  fields: (t) => ({
    from: t.exposeInt('from'),
    to: t.exposeInt('to'),
    path: t.exposeStringList('path', { description: 'RFC 9162 §2.1.4 consistency proof, hex.' }),
  }),
});

const HeadRef = builder.objectRef<{ treeSize: number; rootHash: string; pending: number }>('AuditLogHead').implement({
  fields: (t) => ({
    treeSize: t.exposeInt('treeSize', { description: 'Events sealed.' }),
    rootHash: t.exposeString('rootHash', { description: 'Root of their tree (unsigned; see auditCheckpoint).' }),
    pending: t.exposeInt('pending', { description: 'Events written, not sealed yet.' }),
  }),
});

const EvidenceTableRef = builder.objectRef<ReturnType<typeof evidenceTables>[number]>('EvidenceTable').implement({
  description: 'A table whose rows the audit events vouch for by content hash.',
  fields: (t) => ({
    name: t.exposeString('name'),
    seeded: t.exposeBoolean('seeded', { description: 'Migrations put rows in it.' }),
    key: t.exposeStringList('key', {
      description:
        "Its primary-key columns, in order: a row's key is their value, or the JSON array of their values as text.",
    }),
  }),
});

const EvidenceRowPageRef = builder.objectRef<EvidenceRowPage>('EvidenceRowPage').implement({
  fields: (t) => ({
    table: t.exposeString('table'),
    rows: t.field({
      type: ['JSON'],
      description:
        'Rows in canonical form, in primary-key order: the object a row hash covers (SHA-256 over the table name, a newline and its canonical JSON, keys sorted).',
      resolve: (p) => p.rows,
    }),
    endKey: t.exposeString('endKey', { nullable: true, description: "The last row's key: `after` of the next page." }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
  }),
});

builder.queryFields((t) => ({
  evidenceTables: t.field({
    type: [EvidenceTableRef],
    authScopes: { staff: true },
    description: 'The tables whose rows the audit events vouch for, for an outside re-hash.',
    resolve: () => evidenceTables(),
  }),
  evidenceRows: t.field({
    type: EvidenceRowPageRef,
    authScopes: { staff: true },
    description: `One page of an evidence table's rows in canonical form, after the key \`after\` (at most 100).`,
    args: {
      table: t.arg.string({ required: true }),
      after: t.arg.string({ required: false }),
      first: t.arg.int({ required: false }),
    },
    resolve: (_root, args, ctx) => evidenceRows(ctx.db, args),
  }),
  auditLogHead: t.field({
    type: HeadRef,
    authScopes: { staff: true },
    description: 'The sealed log as it stands now.',
    resolve: (_root, _args, ctx) => auditLogHead(ctx.db),
  }),
  auditCheckpoint: t.field({
    type: CheckpointRef,
    authScopes: { staff: true },
    description: 'The newest signed checkpoint, or the one of exactly treeSize events.',
    args: { treeSize: t.arg.int({ required: false }) },
    resolve: (_root, args, ctx) => auditCheckpoint(ctx.db, args.treeSize),
  }),
  auditCheckpoints: t.field({
    type: [CheckpointRef],
    authScopes: { staff: true },
    description: 'Signed checkpoints of sizes in [from, to], smallest first (at most 100).',
    args: {
      from: t.arg.int({ required: true }),
      to: t.arg.int({ required: true }),
      first: t.arg.int({ required: false }),
    },
    resolve: (_root, args, ctx) => auditCheckpoints(ctx.db, args),
  }),
  auditEntries: t.field({
    type: [EntryRef],
    authScopes: { staff: true },
    description: 'Sealed log entries from position `from` on, in log order (at most 100).',
    args: { from: t.arg.int({ required: true }), first: t.arg.int({ required: false }) },
    resolve: (_root, args, ctx) => auditEntries(ctx.db, args),
  }),
  inclusionProof: t.field({
    type: InclusionRef,
    authScopes: { staff: true },
    description: 'The event at `position` and its audit path in the tree of the first treeSize events.',
    args: { position: t.arg.int({ required: true }), treeSize: t.arg.int({ required: true }) },
    resolve: (_root, args, ctx) => inclusionProof(ctx.db, args.position, args.treeSize),
  }),
  consistencyProof: t.field({
    type: ConsistencyRef,
    authScopes: { staff: true },
    description: 'Proof that the tree of `to` events extends the tree of `from` events.',
    args: { from: t.arg.int({ required: true }), to: t.arg.int({ required: true }) },
    resolve: (_root, args, ctx) => consistencyProof(ctx.db, args.from, args.to),
  }),
  auditLog: t.drizzleConnection(
    {
      type: 'auditEvents',
      authScopes: { staff: true },
      description: 'Newest first. Filters: actor, entity (type and optionally id), time range [from, to).',
      args: {
        actor: t.arg.string({ required: false }),
        entityType: t.arg.string({ required: false }),
        entityId: t.arg.string({ required: false }),
        from: t.arg({ type: 'DateTime', required: false }),
        to: t.arg({ type: 'DateTime', required: false }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.db.query.auditEvents.findMany(
          query({
            where: auditLogFilters({
              actor: args.actor,
              entityType: args.entityType,
              entityId: args.entityId,
              from: args.from,
              to: args.to,
            }),
            orderBy: { seq: 'desc' },
          }),
        ),
    },
    { name: 'AuditEventConnection' },
    { name: 'AuditEventEdge' },
  ),
  verifyAuditLog: t.field({
    type: Verification,
    authScopes: { staff: true },
    description:
      'Recomputes the sealed log (leaves, chain, checkpoint roots) and names the first broken position, if any; re-hashes every evidence row and names those that differ from their event.',
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.db),
  }),
}));
