package config

// Postmortem configures the post-mortem drafts
// (GET /api/v1/incidents/{key}/postmortem).
type Postmortem struct {
	// TemplateFile is a text/template rendering Markdown, in place of the
	// one built in (configs/templates/postmortem.md.tmpl); resolved
	// against the configuration file's directory.
	TemplateFile string `yaml:"template_file"`
}

func (p *Postmortem) check(m *mapping) error {
	if m.has("template_file") {
		if p.TemplateFile == "" {
			return m.errorf("template_file", "must not be empty")
		}
		p.TemplateFile = m.d.resolve(p.TemplateFile)
	}
	return nil
}
