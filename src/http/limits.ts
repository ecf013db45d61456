// What one GraphQL request may ask for. Every refusal is a GraphQL error with a `code` (and an HTTP
// status where one fits) before any resolver runs: depth, aliases, cost, tokens, directives, document
// size, page size, introspection; field suggestions are blanked, CSRF-prone requests refused, a body of no
// known content type answered with the one to send.
import { costLimitPlugin, costLimitRule, type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import {
  BREAK,
  GraphQLError,
  Kind,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { Context } from '../graphql/builder.js';
import { operationOf } from '../graphql/operation.js';
import { MAX_PAGE_SIZE } from '../registry/paging.js';

const LIMIT_CODE = 'QUERY_LIMIT_EXCEEDED';

function limitError(message: string, status = 400, code = LIMIT_CODE) {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/** graphql-armor reports "Syntax Error: …" and throws; report a coded validation error instead. */
const armorReject = [
  (ctx: ValidationContext | null, err: GraphQLError) => {
    const error = limitError(err.message.replace(/^Syntax Error: /, ''));
    if (ctx) ctx.reportError(error);
    else throw error;
  },
];

/** Every field node of a selection set, through inline fragments and fragment spreads (each fragment once). */
function* fieldsOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  deep: boolean,
  seen = new Set<string>(),
): Generator<FieldNode> {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      yield s;
      if (deep && s.selectionSet) yield* fieldsOf(s.selectionSet, fragments, deep, seen);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      yield* fieldsOf(s.selectionSet, fragments, deep, seen);
    } else {
      const f = fragments.get(s.name.value);
      if (!f || (deep && seen.has(f.name.value))) continue;
      if (deep) seen.add(f.name.value);
      yield* fieldsOf(f.selectionSet, fragments, deep, seen);
    }
  }
}

/** Root fields of the operation: what the rate limiter charges (aliases count once each). */
export function rootFieldCount(document: DocumentNode, operationName?: string | null): number {
  const { operation, fragments } = operationOf(document, operationName);
  if (!operation) return 1;
  let n = 0;
  for (const f of fieldsOf(operation.selectionSet, fragments, false)) if (f.name.value !== '__typename') n++;
  return Math.max(1, n);
}

function pageSizeOf(
  field: FieldNode,
  variables: Record<string, unknown> | undefined,
): { arg: string; value: number } | undefined {
  for (const a of field.arguments ?? []) {
    if (a.name.value !== 'first' && a.name.value !== 'last') continue;
    const v =
      a.value.kind === Kind.INT
        ? Number(a.value.value)
        : a.value.kind === Kind.VARIABLE
          ? variables?.[a.value.name.value]
          : undefined;
    if (typeof v === 'number' && v > MAX_PAGE_SIZE) return { arg: a.name.value, value: v };
  }
  return undefined;
}

/**
 * Checks that need the principal or the variables, so they run at execution (the validation cache is
 * keyed by document only): introspection closed to contractor tokens and in production; a page size
 * above the maximum refused (the connection plugins would silently clamp it).
 */
/**
 * Whether a document passes `first`/`last` as variables, per parsed document: Yoga's parser cache hands the same
 * DocumentNode to every request with the same text, so the walk is made once, not per request (it was 1–2% of the
 * CPU of a transfers page).
 */
const pageSizeVariables = new WeakMap<DocumentNode, boolean>();
function hasPageSizeVariables(document: DocumentNode): boolean {
  let has = pageSizeVariables.get(document);
  if (has === undefined) {
    has = false;
    visit(document, {
      Argument(node) {
        if ((node.name.value === 'first' || node.name.value === 'last') && node.value.kind === Kind.VARIABLE) {
          has = true;
          return BREAK;
        }
        return undefined;
      },
    });
    pageSizeVariables.set(document, has);
  }
  return has;
}

/** The document with `first`/`last` variables replaced by their values, or undefined when it has none. */
function withPageSizesInlined(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): DocumentNode | undefined {
  if (!hasPageSizeVariables(document)) return undefined;
  let changed = false;
  const inlined = visit(document, {
    Argument(node) {
      if ((node.name.value !== 'first' && node.name.value !== 'last') || node.value.kind !== Kind.VARIABLE)
        return undefined;
      const v = variables?.[node.value.name.value];
      if (typeof v !== 'number') return undefined;
      changed = true;
      return { ...node, value: { kind: Kind.INT, value: String(v) } };
    },
  });
  return changed ? inlined : undefined;
}

/**
 * The fields of an operation that `operationGuards` looks at — introspection fields and fields with `first`/`last` —
 * in the order of a full walk (so the same field is reported first), per parsed document and operation name: the
 * walk depends on the document only, and Yoga's parser cache hands the same DocumentNode to every request with the
 * same text. Undefined when the document has no such operation (nothing is kept for unknown names).
 */
const guardedFieldsCache = new WeakMap<DocumentNode, Map<string, FieldNode[]>>();
function guardedFields(document: DocumentNode, operationName?: string | null): FieldNode[] | undefined {
  const name = operationName ?? '';
  let byName = guardedFieldsCache.get(document);
  let fields = byName?.get(name);
  if (fields) return fields;
  const { operation, fragments } = operationOf(document, operationName);
  if (!operation) return undefined;
  fields = [];
  for (const field of fieldsOf(operation.selectionSet, fragments, true)) {
    const n = field.name.value;
    if (
      n === '__schema' ||
      n === '__type' ||
      field.arguments?.some((a) => a.name.value === 'first' || a.name.value === 'last')
    )
      fields.push(field);
  }
  if (!byName) guardedFieldsCache.set(document, (byName = new Map()));
  byName.set(name, fields);
  return fields;
}

function operationGuards(config: Config, costOptions: CostLimitOptions): Plugin<Context> {
  const production = config.env === 'production';
  return {
    onExecute({ args, setResultAndStopExecution }) {
      // The cost rule multiplies by literal page sizes only: check again with variables' values in place.
      const inlined = withPageSizesInlined(args.document, args.variableValues as Record<string, unknown> | undefined);
      if (inlined) {
        const errors = [
          ...validate(args.schema, inlined, [
            costLimitRule({ ...costOptions, propagateOnRejection: false, onReject: [(ctx, e) => ctx?.reportError(e)] }),
          ]),
        ];
        if (errors.length) {
          setResultAndStopExecution({
            errors: errors.map((e) => limitError(e.message.replace(/^Syntax Error: /, ''))),
          });
          return;
        }
      }
      const fields = guardedFields(args.document, args.operationName);
      if (!fields) return;
      const principal = (args.contextValue as Context).principal;
      const introspectionClosed = production || principal?.kind === 'contractor';
      for (const field of fields) {
        const name = field.name.value;
        if (introspectionClosed && (name === '__schema' || name === '__type')) {
          setResultAndStopExecution({
            errors: [
              new GraphQLError(
                `Introspection is not available ${production ? 'in production' : 'to contractor tokens'}`,
                { extensions: { code: 'FORBIDDEN' } },
              ),
            ],
          });
          return;
        }
        const page = pageSizeOf(field, args.variableValues as Record<string, unknown> | undefined);
        if (page) {
          setResultAndStopExecution({
            errors: [
              new GraphQLError(`${name}(${page.arg}: ${page.value}): at most ${MAX_PAGE_SIZE} items per page`, {
                extensions: { code: 'VALIDATION_FAILED', field: page.arg, max: MAX_PAGE_SIZE },
              }),
            ],
          });
          return;
        }
      }
    },
  };
}

/** graphql-js suggests field, argument, enum value and type names ("Did you mean …?"): blank every form. */
const noSuggestions: Plugin = {
  onResultProcess({ result, setResult }) {
    const r = result as { errors?: readonly GraphQLError[] };
    if (Array.isArray(result) || !r.errors?.some((e) => /Did you mean/.test(e.message))) return;
    setResult({
      ...(result as object),
      errors: r.errors.map((e) => {
        const message = e.message.replace(/\s*Did you mean[^?]*\?/g, '').trim();
        return message === e.message
          ? e
          : new GraphQLError(message, { nodes: e.nodes, path: e.path, extensions: e.extensions });
      }),
    } as never);
  },
};

/**
 * Deepest nesting of brackets ({ [ () a document may have. graphql-js parses, validates and coerces values
 * recursively, so `viewer(x: [[[…]]])` a few thousand levels deep overflows the stack inside a document well
 * under MAX_DOCUMENT_CHARS (and below the token limit, which counts as it goes). No real operation comes near:
 * selections stop at MAX_QUERY_DEPTH and inputs here are flat.
 */
const MAX_NESTING = 100;

/** How deeply the document's brackets nest, ignoring strings, block strings and comments; stops counting past `limit`. */
function nestingDepth(document: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < document.length; i++) {
    const c = document[i];
    if (c === '#') {
      while (i < document.length && document[i] !== '\n' && document[i] !== '\r') i++;
    } else if (c === '"') {
      if (document.startsWith('"""', i)) {
        // Inside a block string only \""" escapes the delimiter.
        let j = document.indexOf('"""', i + 3);
        while (j > 0 && document[j - 1] === '\\') j = document.indexOf('"""', j + 3);
        i = j < 0 ? document.length : j + 2;
      } else {
        // A string ends at its closing quote; at a line end the lexer refuses it (and parses nothing further).
        for (i++; i < document.length && !'"\n\r'.includes(document[i]!); i++) if (document[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c === '}' || c === ']' || c === ')') && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/**
 * The document text itself, before it is parsed: refused above MAX_DOCUMENT_CHARS (413) or when its brackets
 * nest deeper than MAX_NESTING (400).
 */
function documentShape(maxChars: number): Plugin {
  return {
    onParams({ params }) {
      if (typeof params.query !== 'string') return;
      if (params.query.length > maxChars) {
        throw limitError(`Document of ${params.query.length} characters exceeds the limit of ${maxChars}`, 413);
      }
      if (nestingDepth(params.query, MAX_NESTING) > MAX_NESTING) {
        throw limitError(`Document nests brackets more than ${MAX_NESTING} levels deep; the limit is ${MAX_NESTING}`);
      }
    },
  };
}

/**
 * A POST whose Content-Type no request parser takes (none at all, text/plain, …) would get a bare 415 with an empty
 * body; say what to send instead. Yoga's parsers have had their turn: this runs only where none matched.
 */
const contentTypeNeeded: Plugin = {
  onRequestParse({ request, requestParser, endResponse }) {
    if (requestParser) return;
    const given = request.headers.get('content-type');
    const what = given
      ? `Content-Type ${given.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)} is not accepted`
      : 'The request has no Content-Type';
    endResponse(
      new Response(
        JSON.stringify({
          errors: [
            {
              message: `${what}: send the GraphQL request as JSON with the header Content-Type: application/json`,
              extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
            },
          ],
        }),
        { status: 415, headers: { 'content-type': 'application/json' } },
      ),
    );
  },
};

export function limitPlugins(config: Config): Plugin<Context>[] {
  const l = config.limits;
  const common = { exposeLimits: true, onReject: armorReject, propagateOnRejection: false };
  // depthCostFactor 1: the cost approximates the number of values a response can hold (objects 2, scalars 1,
  // each connection × its page size), so 50 contractors × 10 grants pass and 100 × 100 do not.
  const cost: CostLimitOptions = {
    maxCost: l.maxCost,
    objectCost: 2,
    scalarCost: 1,
    depthCostFactor: 1,
    ignoreIntrospection: false,
    flattenFragments: true,
  };
  return [
    // A browser sends a cross-site request without a CORS preflight only with a "simple" content type and
    // no custom header; such a request must carry Authorization (a bearer token, which a browser never adds
    // on its own) or the CSRF header. Tokens travel only in Authorization: no cookies.
    useCSRFPrevention({ requestHeaders: ['authorization', 'x-graphql-yoga-csrf'] }) as Plugin<Context>,
    contentTypeNeeded as Plugin<Context>,
    documentShape(l.maxDocumentChars) as Plugin<Context>,
    maxTokensPlugin({
      n: l.maxTokens,
      exposeLimits: true,
      onReject: armorReject,
      propagateOnRejection: true,
    }) as Plugin<Context>,
    // The `__schema` subtree is not counted: the standard introspection query (GraphiQL, code generators) is 15
    // deep, mostly `ofType` chains of one object each. What makes introspection expensive, lists nested in lists
    // (`fields { type { fields …`), graphql-js' own MaxIntrospectionDepthRule refuses; who may introspect at all
    // is decided at execution (operationGuards).
    maxDepthPlugin({ n: l.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...common }) as Plugin<Context>,
    // Every alias counts, on real fields and on __typename alike (the plugin's default exempts __typename).
    maxAliasesPlugin({ n: l.maxAliases, allowList: [], ...common }) as Plugin<Context>,
    // Page sizes multiply the cost (literal ones here, those in variables again at execution).
    costLimitPlugin({ ...cost, ...common }) as Plugin<Context>,
    maxDirectivesPlugin({ n: l.maxDirectives, ...common }) as Plugin<Context>,
    noSuggestions as Plugin<Context>,
    operationGuards(config, cost),
  ];
}
