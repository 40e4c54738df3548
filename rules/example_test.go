package rules

import "testing"

func TestExampleRulesCompile(t *testing.T) {
	files, err := Load("../configs/rules", []string{"*.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("got %d files", len(files))
	}
	if _, err := Compile(files); err != nil {
		t.Fatal(err)
	}
}
