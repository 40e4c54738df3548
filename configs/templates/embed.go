// Package templates holds the default status-page update templates, one
// file per audience and language, embedded so that Klaxon works as shipped.
package templates

import "embed"

// FS holds the default templates: external.en.yml, external.de.yml,
// internal.en.yml and internal.de.yml.
//
//go:embed *.yml
var FS embed.FS
