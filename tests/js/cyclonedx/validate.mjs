// Validate CycloneDX documents with @cyclonedx/cyclonedx-library's strict validators.
// Usage: node validate.mjs VERSION FILE...  (FILE ending in .xml is XML, else JSON)
// Prints "FILE: valid" or "FILE: invalid <details>" per file; exit 1 when any is invalid.
import { readFileSync } from 'node:fs'
import { Spec, Validation } from '@cyclonedx/cyclonedx-library'

const [version, ...files] = process.argv.slice(2)
let failed = false
for (const file of files) {
  const Validator = file.endsWith('.xml') ? Validation.XmlValidator : Validation.JsonStrictValidator
  const errors = await new Validator(version).validate(readFileSync(file, 'utf8'))
  if (errors === null) {
    console.log(`${file}: valid`)
  } else {
    failed = true
    console.log(`${file}: invalid ${JSON.stringify(errors).slice(0, 2000)}`)
  }
}
process.exit(failed ? 1 : 0)
