// Atlassian's reference implementation (npm atlassian-jwt) as an independent oracle.
// stdin: JSON {cases: [{method, url, baseUrl}], tokens: [{token, secret, method, url, baseUrl}]}
// stdout: JSON {hashes: [{canonical, qsh}], tokens: [{ok, claims?, qsh?, error?}]}
const jwt = require('atlassian-jwt');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { cases = [], tokens = [] } = JSON.parse(input);
  const hashes = cases.map(({ method, url, baseUrl }) => {
    const request = jwt.fromMethodAndUrl(method, url);
    return {
      canonical: jwt.createCanonicalRequest(request, false, baseUrl),
      qsh: jwt.createQueryStringHash(request, false, baseUrl),
    };
  });
  const checked = tokens.map(({ token, secret, method, url, baseUrl }) => {
    try {
      const claims = jwt.decodeSymmetric(token, secret, jwt.SymmetricAlgorithm.HS256);
      const expected = jwt.createQueryStringHash(jwt.fromMethodAndUrl(method, url), false, baseUrl);
      return { ok: true, claims, qsh: expected };
    } catch (error) {
      return { ok: false, error: String(error.message || error) };
    }
  });
  process.stdout.write(JSON.stringify({ hashes, tokens: checked }));
});
