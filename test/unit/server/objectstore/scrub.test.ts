import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialValues, redactSecrets, scrubError } from '../../../../server/src/objectstore/scrub.js';

describe('scrubbing SDK errors', () => {
  const secrets = credentialValues({
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE123',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
    AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEJr',
    HOME: '/root',
  });

  it('keeps the S3 error code, its message and the HTTP status; drops the rest', () => {
    // The shape of an S3ServiceException: the XML error's fields are copied onto the error.
    const err = Object.assign(new Error('The request signature we calculated does not match.'), {
      name: 'SignatureDoesNotMatch',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, requestId: 'req-1', extendedRequestId: 'ext-1' },
      StringToSign: 'AWS4-HMAC-SHA256\n20260101T000000Z\n...',
      CanonicalRequest: 'PUT\n/backups/k\nX-Amz-Credential=AKIAEXAMPLE123%2F...',
      AWSAccessKeyId: 'AKIAEXAMPLE123',
    });
    assert.equal(
      scrubError(err, secrets),
      'SignatureDoesNotMatch: The request signature we calculated does not match. (HTTP 403)',
    );
  });

  it('blanks credential values and signatures wherever they appear', () => {
    const err = Object.assign(
      new Error(
        'failed GET http://h/b/k?X-Amz-Credential=AKIAEXAMPLE123%2Fx&X-Amz-Signature=abcdef&X-Amz-Security-Token=FwoGZXIvYXdzEJr',
      ),
      { name: 'Error' },
    );
    const text = scrubError(err, secrets);
    for (const s of ['AKIAEXAMPLE123', 'abcdef', 'FwoGZXIvYXdzEJr']) assert.ok(!text.includes(s), text);
    assert.match(text, /X-Amz-Signature=\[redacted\]/);
    assert.equal(redactSecrets('key wJalrXUtnFEMI/K7MDENG here', secrets), 'key [redacted] here');
    assert.equal(
      redactSecrets('Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=00ff', []),
      'Authorization: [redacted]',
    );
  });

  it('network errors keep their code and message; only the first line', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1\n    at stack'), {
      code: 'ECONNREFUSED',
    });
    assert.equal(scrubError(err, secrets), 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
    assert.equal(scrubError('plain AKIAEXAMPLE123', secrets), 'plain [redacted]');
  });
});
