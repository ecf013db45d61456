// Imports every domain module (each registers its types on the builder) and prints the schema once.
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './viewer.js';
import './offices.js';
import './contractors.js';
import './categories.js';
import './grants.js';
import './obligations.js';
import './policy.js';
import './access-tokens.js';
import './shared-records.js';
import './transfers.js';
import './transfer-statistics.js';
import './disclosures.js';
import './records-of-processing.js';
import './published-disclosure.js';
import './audit-log.js';

export const schema = lexicographicSortSchema(builder.toSchema());
