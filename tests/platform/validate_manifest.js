// Runs Atlassian's own manifest validator (npm @forge/manifest, FULL) on ./manifest.yml.
const { ProcessorBuilder, ValidationTypes } = require('@forge/manifest');

ProcessorBuilder.instance().withValidation(ValidationTypes.FULL).build().process()
  .then((result) => {
    process.stdout.write(JSON.stringify({ success: result.success, errors: result.errors || [] }));
    process.exit(result.success ? 0 : 1);
  })
  .catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(2); });
