package templates

import _ "embed" // for the post-mortem template

// Postmortem is the default post-mortem draft template (postmortem.md.tmpl),
// a text/template over postmortem.Data that renders Markdown.
//
//go:embed postmortem.md.tmpl
var Postmortem string
