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

// InternalInputs are the data an internal update template sees. The
// figures (from Key on) are set for the final message of a resolved
// incident (package resolution renders it) and empty otherwise, so a
// template tests them with {{if}}.
type InternalInputs struct {
	Service  string
	Severity string
	State    string
	Started  string

	Key        string // the incident's key, such as INC-42
	Title      string // its title
	Components string // the status-page components of its services, comma-separated
	Resolved   string // when it resolved
	ResolvedBy string // who resolved it; "" when it resolved by itself
	Duration   string // from its start to its resolution, such as "1h 25m"
	TimeToAck  string // from its opening to the acknowledgement; "" if nobody acknowledged
	AckedBy    string // who acknowledged it
	Pages      int    // pages delivered
	Alerts     int64  // alerts received
	Tickets    int64  // support tickets
	Mentions   int64  // social-media mentions
	Reach      int64  // the mentions' reach
	Customers  int    // distinct customers named by its signals; 0 when none is known
	Roles      string // who held which role, such as "Incident manager: ada; Technical lead: ben"
}

// internalInputNames lists InternalInputs' fields for error messages.
const internalInputNames = ".Service, .Severity, .State and .Started; for the final message also .Key, .Title, .Components, " +
	".Resolved, .ResolvedBy, .Duration, .TimeToAck, .AckedBy, .Pages, .Alerts, .Tickets, .Mentions, .Reach, .Customers and .Roles"

// internalSamples are inputs every internal template is tried on at load:
// one without figures and one with, so both branches of an {{if}} run.
var internalSamples = []any{
	InternalInputs{Service: "shop", Severity: "SEV1", State: "investigating", Started: "now"},
	InternalInputs{Service: "shop", Severity: "SEV1", State: "resolved", Started: "then", Key: "INC-1", Title: "Shop down",
		Components: "Shop", Resolved: "now", ResolvedBy: "ada", Duration: "1h", TimeToAck: "2m", AckedBy: "ada", Pages: 1,
		Alerts: 1, Tickets: 1, Mentions: 1, Reach: 1, Customers: 1, Roles: "Incident manager: ada"},
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
	t, err := parseTemplates(name, data, []any{externalSample}, externalInputNames)
	if err != nil {
		return nil, fmt.Errorf("status-page templates: %w", err)
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
	t, err := parseTemplates(name, data, internalSamples, internalInputNames)
	if err != nil {
		return nil, fmt.Errorf("internal update templates: %w", err)
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

// externalSample and externalInputNames are what external templates are
// tried on at load, and their inputs' names for errors.
var externalSample = Inputs{PublicName: "Shop", Component: "Shop", State: "investigating", Started: "now", Resolved: "later"}

const externalInputNames = ".PublicName, .Component, .State, .Started and .Resolved"

// ParseTemplates parses a template file: a title and a body per incident
// state. Every template is tried on sample Inputs, so one that names any
// other field fails here, not when an incident opens.
func ParseTemplates(data []byte) (*Templates, error) {
	return parseTemplates("templates", data, []any{externalSample}, externalInputNames)
}

// parseTemplates parses the template file name, trying every template on
// each of samples, whose fields inputs names for the error. Errors name
// the file and the line of the template at fault.
func parseTemplates(name string, data []byte, samples []any, inputs string) (*Templates, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	raw := map[string]*yaml.Node{}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: want a mapping of incident states to a title and a body", name, root.Line)
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k := root.Content[i]
			if !validState(k.Value) {
				return nil, fmt.Errorf("%s:%d: %q is not an incident state (want investigating, identified, monitoring or resolved)", name, k.Line, k.Value)
			}
			raw[k.Value] = root.Content[i+1]
		}
	}
	t := &Templates{byState: map[IncidentStatus]pair{}}
	for _, st := range incidentStates {
		p, err := parsePair(name, string(st), raw[string(st)], samples, inputs)
		if err != nil {
			return nil, err
		}
		t.byState[st] = p
	}
	return t, nil
}

// parsePair parses one state's title and body from node n.
func parsePair(file, st string, n *yaml.Node, samples []any, inputs string) (pair, error) {
	var p pair
	if n == nil {
		return p, fmt.Errorf("%s: %s: a title and a body are required", file, st)
	}
	var raw struct {
		Title string `yaml:"title"`
		Body  string `yaml:"body"`
	}
	data, _ := yaml.Marshal(n) // a decoded node encodes
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return p, fmt.Errorf("%s:%d: %s: %w", file, n.Line, st, err)
	}
	if raw.Title == "" || raw.Body == "" {
		return p, fmt.Errorf("%s:%d: %s: a title and a body are required", file, n.Line, st)
	}
	var err error
	if p.title, err = parseOne(file, valueLine(n, "title"), st+".title", raw.Title, samples, inputs); err != nil {
		return p, err
	}
	p.body, err = parseOne(file, valueLine(n, "body"), st+".body", raw.Body, samples, inputs)
	return p, err
}

// valueLine is the line of key's value in mapping n.
func valueLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Line
		}
	}
	return n.Line
}

func validState(s string) bool {
	for _, st := range incidentStates {
		if string(st) == s {
			return true
		}
	}
	return false
}

// parseOne parses one template, written at file:line, and tries it on
// every sample.
func parseOne(file string, line int, name, text string, samples []any, inputs string) (*template.Template, error) {
	tpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", file, line, name, err)
	}
	for _, sample := range samples {
		if err := tpl.Execute(new(bytes.Buffer), sample); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w (the inputs are %s)", file, line, name, err, inputs)
		}
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
