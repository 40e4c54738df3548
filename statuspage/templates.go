package statuspage

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/configs/templates"
)

// Inputs are the only data an update template sees: public by construction.
type Inputs struct {
	PublicName string
	Component  string
	State      string
	Started    string
	Resolved   string
}

// Templates are one audience's update templates in one language.
type Templates struct {
	byState map[IncidentStatus]pair
}

type pair struct{ title, body *template.Template }

// Languages are the languages the default templates ship in.
var Languages = []string{"en", "de"}

// InternalInputs are the data an internal update template sees.
type InternalInputs struct {
	Service  string
	Severity string
	State    string
	Started  string
}

// InternalTemplates are the internal audience's update templates in one
// language: they may name internal things, and never reach the page.
type InternalTemplates struct{ t Templates }

// LoadTemplates reads external.<lang>.yml from dir, or from the defaults
// shipped in configs/templates when dir is empty.
func LoadTemplates(dir, lang string) (*Templates, error) {
	data, name, err := readTemplates(dir, "external."+lang+".yml")
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplates(data)
	if err != nil {
		return nil, fmt.Errorf("status-page templates %s: %w", name, err)
	}
	return t, nil
}

// LoadInternalTemplates reads internal.<lang>.yml as LoadTemplates reads
// the external ones.
func LoadInternalTemplates(dir, lang string) (*InternalTemplates, error) {
	data, name, err := readTemplates(dir, "internal."+lang+".yml")
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates(data, InternalInputs{Service: "shop", Severity: "SEV1", State: "investigating", Started: "now"},
		".Service, .Severity, .State and .Started")
	if err != nil {
		return nil, fmt.Errorf("internal update templates %s: %w", name, err)
	}
	return &InternalTemplates{t: *t}, nil
}

// Render renders the title and body of the internal update for state st.
func (t *InternalTemplates) Render(st IncidentStatus, in InternalInputs) (title, body string, err error) {
	return t.t.render(st, in)
}

// readTemplates reads the template file name from dir, or from the
// defaults when dir is empty.
func readTemplates(dir, name string) ([]byte, string, error) {
	var data []byte
	var err error
	if dir == "" {
		data, err = fs.ReadFile(templates.FS, name)
	} else {
		name = filepath.Join(dir, name)
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, name, fmt.Errorf("update templates: %w", err)
	}
	return data, name, nil
}

// ParseTemplates parses a template file: a title and a body per incident
// state. Every template is tried on sample Inputs, so one that names any
// other field fails here, not when an incident opens.
func ParseTemplates(data []byte) (*Templates, error) {
	sample := Inputs{PublicName: "Shop", Component: "Shop", State: "investigating", Started: "now", Resolved: "later"}
	return parseTemplates(data, sample, ".PublicName, .Component, .State, .Started and .Resolved")
}

// parseTemplates parses a template file, trying every template on sample,
// whose fields inputs names for the error.
func parseTemplates(data []byte, sample any, inputs string) (*Templates, error) {
	var raw map[string]struct {
		Title string `yaml:"title"`
		Body  string `yaml:"body"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	t := &Templates{byState: map[IncidentStatus]pair{}}
	for k := range raw {
		if !validState(k) {
			return nil, fmt.Errorf("%q is not an incident state (want investigating, identified, monitoring or resolved)", k)
		}
	}
	for _, st := range incidentStates {
		r, ok := raw[string(st)]
		if !ok || r.Title == "" || r.Body == "" {
			return nil, fmt.Errorf("%s: a title and a body are required", st)
		}
		var p pair
		var err error
		if p.title, err = parseOne(string(st)+".title", r.Title, sample, inputs); err != nil {
			return nil, err
		}
		if p.body, err = parseOne(string(st)+".body", r.Body, sample, inputs); err != nil {
			return nil, err
		}
		t.byState[st] = p
	}
	return t, nil
}

func validState(s string) bool {
	for _, st := range incidentStates {
		if string(st) == s {
			return true
		}
	}
	return false
}

// parseOne parses one template and tries it on sample inputs.
func parseOne(name, text string, sample any, inputs string) (*template.Template, error) {
	tpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := tpl.Execute(new(bytes.Buffer), sample); err != nil {
		return nil, fmt.Errorf("%s: %w (the inputs are %s)", name, err, inputs)
	}
	return tpl, nil
}

// Render renders the title and body of the update for state st.
func (t *Templates) Render(st IncidentStatus, in Inputs) (title, body string, err error) {
	return t.render(st, in)
}

func (t *Templates) render(st IncidentStatus, in any) (title, body string, err error) {
	p := t.byState[st]
	var b bytes.Buffer
	if err := p.title.Execute(&b, in); err != nil {
		return "", "", fmt.Errorf("template %s.title: %w", st, err)
	}
	title = b.String()
	b.Reset()
	if err := p.body.Execute(&b, in); err != nil {
		return "", "", fmt.Errorf("template %s.body: %w", st, err)
	}
	return title, b.String(), nil
}
