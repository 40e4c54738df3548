package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// klaxonBin is the klaxon binary under test, built once by TestMain.
var klaxonBin string

// TestMain builds the klaxon binary once into a temporary directory (or uses
// $KLAXON_BIN when set, as `make e2e` does after building bin/klaxon).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv("KLAXON_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: KLAXON_BIN %q: %v\n", bin, err)
			return 1
		}
		if _, err := os.Stat(abs); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: KLAXON_BIN: %v\n", err)
			return 1
		}
		klaxonBin = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "klaxon-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	klaxonBin = filepath.Join(dir, "klaxon")
	build := exec.Command("go", "build", "-o", klaxonBin, "github.com/klaxonhq/klaxon/cmd/klaxon")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building klaxon: %v\n", err)
		return 1
	}
	return m.Run()
}
