// The operation a request executes, picked from its document as graphql-js picks it (by name, or the only one), and
// the document's fragments by name. Every part that looks at a request's document before or beside execution (the
// HTTP limits, idempotency, read routing, the request log, the SQL planner) asks this one function.
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

/** The operation a request executes (undefined when none fits the name), and its fragments. */
export function operationOf(document: DocumentNode, operationName?: string | null) {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName
    ? ops.find((o) => o.name?.value === operationName)
    : ops.length === 1
      ? ops[0]
      : undefined;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  return { operation, fragments };
}
