// helm_reference renders a Helm chart the way Helm's engine does, for the
// test that cross-checks test/deploy/helm_subset.ts where Helm itself is not
// installed: Go's text/template with sprig's functions (less env and
// expandenv), Helm's include, required and toYaml (sigs.k8s.io/yaml, trailing
// newline trimmed), missingkey=zero, "<no value>" printed as "". Values are
// the chart's values.yaml coalesced with overrides given as JSON.
//
// Built from Debian's packages (golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev) in GOPATH mode:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o helm_reference ./tools/helm_reference
//	helm_reference CHART_DIR RELEASE_NAME VALUES.json
//
// Output: "=== <template file>" then its rendered text, for every template
// not starting with "_" in name order; a template that fails prints
// "ERROR: <message>" instead.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: helm_reference CHART_DIR RELEASE_NAME VALUES.json")
		os.Exit(2)
	}
	chartDir, release, valuesFile := os.Args[1], os.Args[2], os.Args[3]

	var chart, defaults, overrides map[string]interface{}
	check(yaml.Unmarshal(read(filepath.Join(chartDir, "Chart.yaml")), &chart))
	check(yaml.Unmarshal(read(filepath.Join(chartDir, "values.yaml")), &defaults))
	check(json.Unmarshal(read(valuesFile), &overrides))
	values := coalesce(defaults, overrides)
	// .Chart has the metadata's Go field names: name -> Name, appVersion -> AppVersion.
	chartObject := map[string]interface{}{}
	for k, v := range chart {
		chartObject[strings.ToUpper(k[:1])+k[1:]] = v
	}

	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	funcs["required"] = func(message string, v interface{}) (interface{}, error) {
		if s, ok := v.(string); v == nil || (ok && s == "") {
			return v, errors.New(message)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var out bytes.Buffer
		err := t.ExecuteTemplate(&out, name, data)
		return out.String(), err
	}
	t.Funcs(funcs)

	entries, err := os.ReadDir(filepath.Join(chartDir, "templates"))
	check(err)
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		_, err := t.New(n).Parse(string(read(filepath.Join(chartDir, "templates", n))))
		check(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			continue
		}
		top := map[string]interface{}{
			"Values":   values,
			"Release":  map[string]interface{}{"Name": release, "Namespace": "default", "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
			"Chart":    chartObject,
			"Template": map[string]interface{}{"Name": fmt.Sprint(chart["name"]) + "/templates/" + n, "BasePath": fmt.Sprint(chart["name"]) + "/templates"},
		}
		var out bytes.Buffer
		if err := t.ExecuteTemplate(&out, n, top); err != nil {
			fmt.Printf("=== %s\nERROR: %v\n", n, err)
			continue
		}
		fmt.Printf("=== %s\n%s\n", n, strings.ReplaceAll(out.String(), "<no value>", ""))
	}
}

// coalesce merges overrides into base as Helm coalesces values: maps key by key, anything else replaced, null deletes.
func coalesce(base, overrides map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overrides {
		if v == nil {
			delete(out, k)
			continue
		}
		b, bok := out[k].(map[string]interface{})
		o, ook := v.(map[string]interface{})
		if bok && ook {
			out[k] = coalesce(b, o)
		} else {
			out[k] = v
		}
	}
	return out
}

func read(file string) []byte {
	b, err := os.ReadFile(file)
	check(err)
	return b
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
