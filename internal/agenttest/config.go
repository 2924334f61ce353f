package agenttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/vlstore"
)

// NodeName is the node_name of Config; documents carry it as
// kubernetes.host.
const NodeName = "test-node"

// Config is a test agent's config under dir: data in dir/data, a free
// loopback port for the HTTP API, short intervals, and no Kubernetes.
// Add inputs and outputs (ContainerLogs, StoreOutput, Console) before
// writing it.
func Config(dir string) config.Config {
	c := config.Default()
	c.NodeName = NodeName
	c.DataDir = filepath.Join(dir, "data")
	c.MemoryLimit = 64 << 20
	c.CheckpointInterval = config.Duration(100 * time.Millisecond)
	c.HTTP.Listen = "127.0.0.1:0"
	c.Kubernetes.Enabled = false
	return c
}

// ContainerLogs is a container_logs input named containers over globs,
// read from the head and polled every 50ms.
func ContainerLogs(globs ...string) config.Input {
	return config.Input{
		Name:         "containers",
		Type:         "container_logs",
		Paths:        globs,
		StartAt:      "head",
		PollInterval: config.Duration(50 * time.Millisecond),
	}
}

// StoreOutput is an elasticsearch output named es into the test store at
// url (vlstore), with its headers and ids in sluice_id, flushing often.
func StoreOutput(url string) config.Output {
	return config.Output{
		Name:    "es",
		Type:    "elasticsearch",
		URLs:    []string{url},
		Headers: vlstore.Headers,
		IDField: "sluice_id",
		Bulk: config.Bulk{
			MaxBytes:      256 << 10,
			FlushInterval: config.Duration(200 * time.Millisecond),
		},
		Retry: config.Retry{Initial: config.Duration(50 * time.Millisecond), Max: config.Duration(time.Second)},
	}
}

// Console is a console output named stdout.
func Console() config.Output {
	return config.Output{Name: "stdout", Type: "console"}
}

// WriteConfig renders c into dir/sluice.yaml and returns the path.
func WriteConfig(t testing.TB, dir string, c config.Config) string {
	t.Helper()
	raw, err := Render(c)
	require.NoError(t, err)
	path := filepath.Join(dir, "sluice.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

// Render writes c as the agent reads it, in block style, one key per line
// (so a test can point at the line of any key), with only the keys whose
// values differ from the defaults. Sizes are written with units (64MiB)
// and durations as 250ms; strings are quoted only where YAML needs it.
func Render(c config.Config) ([]byte, error) {
	n := structNode(reflect.ValueOf(c), reflect.ValueOf(config.Default()))
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return b.Bytes(), nil
}

var (
	durationType = reflect.TypeFor[config.Duration]()
	sizeType     = reflect.TypeFor[config.ByteSize]()
)

// structNode maps v's fields to their yaml keys, leaving out those equal
// to def's (the defaults) or, without def, the zero ones.
func structNode(v, def reflect.Value) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		fv := v.Field(i)
		var fd reflect.Value
		if def.IsValid() {
			fd = def.Field(i)
		}
		if key == "" && opts == "inline" && fv.Kind() == reflect.Struct {
			// Its keys are the section's own (Output's ESConventions).
			m.Content = append(m.Content, structNode(fv, fd).Content...)
			continue
		}
		if key == "" || key == "-" || !f.IsExported() {
			continue
		}
		if fd.IsValid() && reflect.DeepEqual(fv.Interface(), fd.Interface()) || !fd.IsValid() && fv.IsZero() {
			continue
		}
		n := valueNode(fv, fd)
		if n == nil {
			continue
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, n)
	}
	return m
}

// valueNode renders one value; nil leaves it out.
func valueNode(v, def reflect.Value) *yaml.Node {
	scalar := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	switch {
	case v.Type() == durationType:
		return scalar(time.Duration(v.Int()).String())
	case v.Type() == sizeType:
		return scalar(sizeString(v.Int()))
	}
	switch v.Kind() {
	case reflect.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.String()}
	case reflect.Bool:
		return scalar(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int64, reflect.Int32:
		return scalar(strconv.FormatInt(v.Int(), 10))
	case reflect.Float64, reflect.Float32:
		return scalar(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if v.Elem().Kind() == reflect.Struct {
			return structNode(v.Elem(), reflect.Value{})
		}
		return valueNode(v.Elem(), reflect.Value{})
	case reflect.Struct:
		n := structNode(v, def)
		if len(n.Content) == 0 {
			return nil
		}
		return n
	case reflect.Slice:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			e := v.Index(i)
			var n *yaml.Node
			if m, ok := e.Interface().(yaml.Marshaler); ok {
				// A config.Transform: its type and its type's keys.
				n = &yaml.Node{}
				if err := n.Encode(m); err != nil {
					panic(fmt.Sprintf("BUG: agenttest.Render: %v", err))
				}
			} else if e.Kind() == reflect.Struct {
				n = structNode(e, reflect.Value{})
			} else {
				n = valueNode(e, reflect.Value{})
			}
			s.Content = append(s.Content, n)
		}
		if v.Len() == 0 {
			s.Style = yaml.FlowStyle // an explicit empty list
		}
		return s
	case reflect.Map:
		m := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			m.Content = append(m.Content, scalar(k.String()), valueNode(v.MapIndex(k), reflect.Value{}))
		}
		return m
	}
	panic(fmt.Sprintf("BUG: agenttest.Render: no rendering for %s", v.Type()))
}

// sizeString writes n bytes in the largest binary unit that divides it.
func sizeString(n int64) string {
	for _, u := range []struct {
		s string
		m int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}
