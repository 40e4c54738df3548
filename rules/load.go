package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// defaultSet compiles the empty rule set once.
var defaultSet = sync.OnceValue(func() *Set {
	s, err := compile(nil)
	if err != nil {
		panic(fmt.Sprintf("rules: the built-in defaults do not compile: %v", err))
	}
	return s
})

// load expands globs (relative ones against dir), sorts the matches and
// reads them. A glob that matches nothing is not an error.
func load(dir string, globs []string) ([]File, error) {
	var names []string
	for _, g := range globs {
		pattern := g
		if !filepath.IsAbs(g) {
			pattern = filepath.Join(dir, g)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("rule file glob %q: %w", g, err)
		}
		for _, m := range matches {
			if !filepath.IsAbs(g) {
				if rel, err := filepath.Rel(dir, m); err == nil {
					m = rel
				}
			}
			names = append(names, m)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	files := make([]File, 0, len(names))
	for _, name := range names {
		path := name
		if !filepath.IsAbs(name) {
			path = filepath.Join(dir, name)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading rule file: %w", err)
		}
		files = append(files, File{Name: name, Data: data})
	}
	return files, nil
}
