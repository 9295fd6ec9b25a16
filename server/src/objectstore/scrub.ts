// Error texts from the AWS SDK carry more than a user should see: the request (signed URLs, the
// Authorization header, x-amz-security-token), the response's XML fields (StringToSign,
// CanonicalRequest, AWSAccessKeyId), request ids. What reaches a message or a log line is only the S3
// error code, its message and the HTTP status — then any credential value or signature that might still
// be inside is blanked out as a second line of defence.

/** The credential values of this process (the SDK's default chain reads them from here). */
export function credentialValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']
    .map((k) => env[k])
    .filter((v): v is string => v !== undefined && v.length >= 4);
}

/** Query parameters and headers of a signed request whose values must not be shown. */
const signedParts =
  /(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"']+|(Signature=|Credential=)[^,\s"'&]+|(x-amz-security-token:\s*)\S+|(Authorization:\s*)[^\n]+/gi;

/** Blanks out credential values and signatures in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(
    signedParts,
    (_m, a?: string, b?: string, c?: string, d?: string) => `${a ?? b ?? c ?? d ?? ''}[redacted]`,
  );
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * One line for an error from the SDK or the network: `<code>: <message> (HTTP <status>)`. The HTTP
 * status is kept because S3 gives HEAD errors no body (a 403 then arrives as "UnknownError").
 */
export function scrubError(err: unknown, secrets: readonly string[]): string {
  if (!(err instanceof Error)) return redactSecrets(String(err), secrets);
  const e = err as SdkErrorShape & Error;
  const code =
    typeof e.Code === 'string'
      ? e.Code
      : typeof e.code === 'string'
        ? e.code
        : typeof e.name === 'string'
          ? e.name
          : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : 'no message';
  const line = `${code}: ${message}${status === undefined ? '' : ` (HTTP ${status})`}`;
  return redactSecrets(line.split('\n')[0]!, secrets);
}
