// The credentials of an `Authorization: Bearer …` header. The scheme name is case-insensitive (RFC 7235
// section 2.1, RFC 6750 section 2.1): `bearer` and `BEARER` name the same scheme. Whether the credentials
// are a well-formed token is the verifier's business (it refuses anything but canonical base64url).
const BEARER = /^bearer +(\S+)$/i;

export function bearerCredentials(request: Request): string | undefined {
  return request.headers.get('authorization')?.match(BEARER)?.[1];
}
