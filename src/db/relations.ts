import { defineRelations } from 'drizzle-orm';
import * as history from './history.js';
import * as tables from './tables.js';

export const relations = defineRelations({ ...tables, ...history }, (r) => ({
  offices: {
    grants: r.many.grants({ from: r.offices.id, to: r.grants.officeId }),
  },
  contractors: {
    grants: r.many.grants({ from: r.contractors.id, to: r.grants.contractorId }),
    processingLocations: r.many.processingLocations({ from: r.contractors.id, to: r.processingLocations.contractorId }),
    obligations: r.many.obligations({ from: r.contractors.id, to: r.obligations.contractorId }),
    parent: r.one.contractors({ from: r.contractors.parentContractorId, to: r.contractors.id, alias: 'subprocessors' }),
    subprocessors: r.many.contractors({
      from: r.contractors.id,
      to: r.contractors.parentContractorId,
      alias: 'subprocessors',
    }),
    accessTokens: r.many.accessTokens({ from: r.contractors.id, to: r.accessTokens.contractorId }),
  },
  auditEvents: {
    seal: r.one.auditSeals({ from: r.auditEvents.seq, to: r.auditSeals.eventSeq }),
  },
  accessTokens: {
    contractor: r.one.contractors({ from: r.accessTokens.contractorId, to: r.contractors.id, optional: false }),
  },
  processingLocations: {
    contractor: r.one.contractors({ from: r.processingLocations.contractorId, to: r.contractors.id, optional: false }),
  },
  grants: {
    contractor: r.one.contractors({ from: r.grants.contractorId, to: r.contractors.id, optional: false }),
    office: r.one.offices({ from: r.grants.officeId, to: r.offices.id, optional: false }),
    parentGrant: r.one.grants({ from: r.grants.parentGrantId, to: r.grants.id, alias: 'onward' }),
    suspendedByChange: r.one.policyChanges({ from: r.grants.suspendedByChangeId, to: r.policyChanges.id }),
    onwardGrants: r.many.grants({ from: r.grants.id, to: r.grants.parentGrantId, alias: 'onward' }),
    categories: r.many.dataCategories({
      from: r.grants.id.through(r.grantCategories.grantId),
      to: r.dataCategories.key.through(r.grantCategories.categoryKey),
    }),
  },
  obligations: {
    contractor: r.one.contractors({ from: r.obligations.contractorId, to: r.contractors.id, optional: false }),
  },
  dataCategories: {
    parent: r.one.dataCategories({ from: r.dataCategories.parentKey, to: r.dataCategories.key, alias: 'tree' }),
    children: r.many.dataCategories({ from: r.dataCategories.key, to: r.dataCategories.parentKey, alias: 'tree' }),
  },
  transfers: {
    exporterOffice: r.one.offices({ from: r.transfers.exporterOfficeId, to: r.offices.id, optional: false }),
    exporterContractor: r.one.contractors({
      from: r.transfers.exporterContractorId,
      to: r.contractors.id,
      alias: 'onwardExports',
    }),
    importerContractor: r.one.contractors({
      from: r.transfers.importerContractorId,
      to: r.contractors.id,
      alias: 'imports',
    }),
    importerOffice: r.one.offices({ from: r.transfers.importerOfficeId, to: r.offices.id, alias: 'officeImports' }),
    grant: r.one.grants({ from: r.transfers.grantId, to: r.grants.id }),
    disclosureRequest: r.one.disclosureRequests({ from: r.transfers.disclosureRequestId, to: r.disclosureRequests.id }),
    accessToken: r.one.accessTokens({ from: r.transfers.accessTokenId, to: r.accessTokens.id }),
  },
  disclosureRequests: {
    office: r.one.offices({ from: r.disclosureRequests.officeId, to: r.offices.id, optional: false }),
    transfers: r.many.transfers({ from: r.disclosureRequests.id, to: r.transfers.disclosureRequestId }),
  },
  // The history tables carry the live tables' relation names, so that a type planned against a live table reads a
  // version the same way. Which versions (those held at the instant asked for) each level filters itself.
  officesHistory: {
    grants: r.many.grantsHistory({ from: r.officesHistory.id, to: r.grantsHistory.officeId }),
  },
  contractorsHistory: {
    grants: r.many.grantsHistory({ from: r.contractorsHistory.id, to: r.grantsHistory.contractorId }),
    processingLocations: r.many.processingLocationsHistory({
      from: r.contractorsHistory.id,
      to: r.processingLocationsHistory.contractorId,
    }),
    obligations: r.many.obligationsHistory({ from: r.contractorsHistory.id, to: r.obligationsHistory.contractorId }),
    parent: r.one.contractorsHistory({
      from: r.contractorsHistory.parentContractorId,
      to: r.contractorsHistory.id,
      alias: 'subprocessorsHistory',
    }),
  },
  grantsHistory: {
    contractor: r.one.contractorsHistory({ from: r.grantsHistory.contractorId, to: r.contractorsHistory.id }),
    office: r.one.officesHistory({ from: r.grantsHistory.officeId, to: r.officesHistory.id }),
    parentGrant: r.one.grantsHistory({
      from: r.grantsHistory.parentGrantId,
      to: r.grantsHistory.id,
      alias: 'onwardHistory',
    }),
    suspendedByChange: r.one.policyChanges({ from: r.grantsHistory.suspendedByChangeId, to: r.policyChanges.id }),
    categories: r.many.dataCategories({
      from: r.grantsHistory.id.through(r.grantCategories.grantId),
      to: r.dataCategories.key.through(r.grantCategories.categoryKey),
    }),
  },
  obligationsHistory: {
    contractor: r.one.contractorsHistory({ from: r.obligationsHistory.contractorId, to: r.contractorsHistory.id }),
  },
}));
