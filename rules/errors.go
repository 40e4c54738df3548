package rules

import "github.com/klaxonhq/klaxon/rules/internal/yamlx"

// Error is one problem found in a rule file, located by file and line.
type Error = yamlx.Error
