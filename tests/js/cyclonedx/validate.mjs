// Validate CycloneDX documents with @cyclonedx/cyclonedx-library's strict validators.
// Usage: node validate.mjs VERSION FILE.json...  (XML is validated by the XSD in Python: the
// library's XML validator needs libxmljs2, a native module that builds from source)
// Prints "FILE: valid" or "FILE: invalid <details>" per file; exit 1 when any is invalid.
import { readFileSync } from 'node:fs'
import { Spec, Validation } from '@cyclonedx/cyclonedx-library'

const [version, ...files] = process.argv.slice(2)
let failed = false
for (const file of files) {
  const errors = await new Validation.JsonStrictValidator(version).validate(readFileSync(file, 'utf8'))
  if (errors === null) {
    console.log(`${file}: valid`)
  } else {
    failed = true
    console.log(`${file}: invalid ${JSON.stringify(errors).slice(0, 2000)}`)
  }
}
process.exit(failed ? 1 : 0)
