package statuspage

import (
	"strings"
	"testing"
)

func TestGolden(t *testing.T) {
	for _, lang := range Languages {
		site := standard(t).site(lang, true)
		for _, p := range Paths {
			name := lang + "." + strings.ReplaceAll(p, "/", "_")
			golden(t, name, site.Files[p].Body)
		}
	}
}
