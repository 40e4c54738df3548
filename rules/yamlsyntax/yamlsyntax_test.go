package yamlsyntax

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestLocate parses broken documents with yaml.v3 and checks that
// the reported error names the line at fault, not the enclosing block.
func TestLocate(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"key under-indented in a nested mapping",
			"a:\n  b:\n    c: 1\n    d: 2\n   e: 3\n",
			"f.yml:5: invalid YAML: did not find expected key (check the indentation of this line against the lines above it)"},
		{"key over-indented",
			"a:\n  b: 1\n    c: 2\n",
			"f.yml:3: invalid YAML: mapping values are not allowed in this context (check the indentation of this line against the lines above it)"},
		{"list item under-indented",
			"a:\n  b:\n    - 1\n   - 2\n",
			"f.yml:4: invalid YAML: did not find expected key (check the indentation of this line against the lines above it)"},
		{"key under-indented in a list item",
			"a:\n  - b: 1\n    c: 2\n   d: 3\n",
			"f.yml:4: invalid YAML: did not find expected '-' indicator (check the indentation of this line against the lines above it)"},
		{"error on the last line, no final newline",
			"a:\n  b: 1\n c: 2",
			"f.yml:3: invalid YAML: did not find expected key (check the indentation of this line against the lines above it)"},
		{"tab", "a:\n  b: 1\n\tc: 2\n",
			"f.yml:3: invalid YAML: found a tab character that violates indentation (indent with spaces, not tabs)"},
		{"flow list left open", "a:\n  b: 1\n  c: [1,\n    2\n  d: 3\n",
			"f.yml:3: invalid YAML: did not find expected ',' or ']' (the [ list opened here is not closed)"},
		{"error in the second document", "a: 1\n---\nb:\n  c: 1\n d: 2\n",
			"f.yml:5: invalid YAML: did not find expected key (check the indentation of this line against the lines above it)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line, problem := Locate(parse([]byte(c.doc)), []byte(c.doc))
			if got := fmt.Sprintf("f.yml:%d: invalid YAML: %s", line, problem); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestLocateWithoutLine(t *testing.T) {
	line, problem := Locate(errUnlined{}, nil)
	if line != 0 || problem != "something odd" {
		t.Fatalf("Locate = %d, %q", line, problem)
	}
}

type errUnlined struct{}

func (errUnlined) Error() string { return "yaml: something odd" }

// TestOffendingLineGivesUp checks the answer 0, which leaves yaml.v3's own
// line in place.
func TestOffendingLineGivesUp(t *testing.T) {
	cases := []struct {
		name, doc, problem string
		reported           int
	}{
		{"reported past the end", "a: [\n", "did not find expected node content", 9},
		{"another problem", "a:\n  b: 1\n c: 2\n", "found a tab character that violates indentation", 1},
		{"no problem at all", "a: 1\n", "did not find expected key", 1},
	}
	for _, c := range cases {
		if got := offendingLine([]byte(c.doc), c.reported, c.problem); got != 0 {
			t.Errorf("%s: offendingLine = %d, want 0", c.name, got)
		}
	}
}

// BenchmarkOffendingLine measures a long file with the error at its end
// and yaml.v3 naming line 1.
func BenchmarkOffendingLine(b *testing.B) {
	doc := []byte("a:\n" + strings.Repeat("  b: 1\n", 5000) + " c: 2\n")
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err == nil {
		b.Fatal("the document parses")
	}
	for b.Loop() {
		if offendingLine(doc, 1, "did not find expected key") == 0 {
			b.Fatal("not found")
		}
	}
}
