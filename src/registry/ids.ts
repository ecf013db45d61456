// How messages name an entity: by the ID clients know it by, the Relay global ID (base64 of `Type:id`).
// Decoding client IDs is the GraphQL layer's work; the domain only names entities in what it reports.
export const publicId = (typename: string, id: number | string): string =>
  Buffer.from(`${typename}:${id}`).toString('base64');
