// `viewer`: who the token speaks for, its role or contractor, scopes and expiry.
import { builder } from './builder.js';
import type { Principal } from '../auth/principal.js';
import { STAFF_ROLES } from '../db/enums.js';

const StaffRoleEnum = builder.enumType('StaffRole', { values: STAFF_ROLES });
const ViewerKind = builder.enumType('ViewerKind', { values: ['STAFF', 'CONTRACTOR'] as const });

const Viewer = builder.objectRef<Principal>('Viewer').implement({
  fields: (t) => ({
    kind: t.field({ type: ViewerKind, resolve: (p) => (p.kind === 'staff' ? 'STAFF' : 'CONTRACTOR') }),
    subject: t.exposeString('subject', { description: "The staff member, or the contractor's global ID." }),
    role: t.field({ type: StaffRoleEnum, nullable: true, resolve: (p) => (p.kind === 'staff' ? p.role : null) }),
    scopes: t.exposeStringList('scopes'),
    tokenId: t.exposeString('tokenId'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    contractor: t.drizzleField({
      type: 'contractors',
      nullable: true,
      resolve: (query, p, _args, ctx) =>
        p.kind === 'contractor' ? ctx.db.query.contractors.findFirst(query({ where: { id: p.contractorId } })) : null,
    }),
    categories: t.stringList({
      description: 'Contractor tokens: the data categories this token may read.',
      resolve: (p) => (p.kind === 'contractor' ? [...p.categories] : []),
    }),
    purposes: t.stringList({
      description: 'Contractor tokens: the purposes this token may read for.',
      resolve: (p) => (p.kind === 'contractor' ? [...p.purposes] : []),
    }),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: Viewer, resolve: (_root, _args, ctx) => ctx.principal }));
