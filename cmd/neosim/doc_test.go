package main

import (
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEverySubcommandDocumented: every subcommand Main dispatches is in the
// package doc and in the usage text.
func TestEverySubcommandDocumented(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", src, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	cases := regexp.MustCompile(`case "([a-z]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(cases) < 11 {
		t.Fatalf("found %d subcommands in Main", len(cases))
	}
	for _, c := range cases {
		if !regexp.MustCompile(`(?m)^\s*` + c[1] + `\s`).MatchString(doc) {
			t.Errorf("subcommand %s missing from the package doc", c[1])
		}
		if c[1] != "help" && !strings.Contains(usage, "neosim "+c[1]) {
			t.Errorf("subcommand %s missing from the usage text", c[1])
		}
	}
}
