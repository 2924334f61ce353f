package convert

import (
	"strings"
)

// fluentd converts one Fluentd directive.
func (c *outConfig) fluentd(p *Plugin) {
	h := handled{}
	get := func(k string) string { h[strings.ToLower(k)] = true; v, _ := p.Get(k); return v }
	has := func(k string) bool { h[strings.ToLower(k)] = true; _, ok := p.Get(k); return ok }
	switch {
	case p.Kind == "input" && p.Name == "tail":
		switch strings.ToLower(get("parse.@type")) {
		case "json", "cri", "multi_format", "none", "":
			// sluice reads CRI and docker json-file itself.
		default:
			c.note(p, Param{Key: "parse.@type", Value: get("parse.@type"), Line: p.Line}, "sluice reads CRI and docker json-file itself; parse the message with a transform")
		}
		for _, q := range p.Params {
			if strings.HasPrefix(strings.ToLower(q.Key), "parse.") {
				h[strings.ToLower(q.Key)] = true
			}
		}
		c.containers(list(get("path")), jsonList(get("exclude_path")), on(get("read_from_head")), "")
		c.rest(p, h, "no equivalent: sluice keeps checkpoints in data_dir and finds new files by inotify and polling")
	case p.Kind == "input" && p.Name == "syslog":
		addr := hostPort(get("bind"), get("port"), "5140")
		proto := strings.ToLower(orDefault(get("transport.@arg"), get("protocol_type")))
		format := ""
		switch strings.ToLower(get("parse.message_format")) {
		case "rfc5424":
			format = "rfc5424"
		case "rfc3164":
			format = "rfc3164"
		}
		get("parse.@type")
		if proto == "tcp" {
			c.syslogIn(addr, "", format)
		} else {
			c.syslogIn("", addr, format)
		}
		c.rest(p, h, "no equivalent")
	case p.Kind == "filter" && p.Name == "kubernetes_metadata":
		c.kube(!on(get("skip_labels")), has("annotation_match"))
		c.rest(p, h, "not needed: sluice reads the in-cluster service account or kubernetes.kubeconfig, and watches this node's pods")
	case p.Kind == "filter" && p.Name == "parser":
		if get("key_name") == "log" && strings.EqualFold(get("parse.@type"), "json") {
			keep := on(get("reserve_data")) && !on(get("remove_key_name_field"))
			c.json("", keep)
			for _, q := range p.Params {
				if strings.HasPrefix(strings.ToLower(q.Key), "parse.") {
					h[strings.ToLower(q.Key)] = true
				}
			}
			c.rest(p, h, "no equivalent")
			return
		}
		c.note(p, Param{Key: "parse.@type", Value: get("parse.@type"), Line: p.Line}, "only the json parser on log is converted: write others as a regex or logfmt transform")
	case p.Kind == "filter" && p.Name == "grep":
		c.grep(p, "regexp", "keep")
		c.grep(p, "exclude", "drop")
	case p.Kind == "filter" && p.Name == "record_transformer":
		add := map[string]string{}
		var remove []string
		for _, q := range p.Params {
			k := strings.ToLower(q.Key)
			switch {
			case strings.HasPrefix(k, "record."):
				if strings.Contains(q.Value, "${") && !envRef.MatchString(q.Value) || strings.Contains(q.Value, "#{") {
					c.note(p, q, "placeholders and Ruby are not evaluated: the value is copied as text")
				}
				add[q.Key[len("record."):]] = q.Value
			case k == "remove_keys":
				remove = append(remove, list(q.Value)...)
			case k == "@type":
			default:
				c.note(p, q, "no equivalent in a fields transform")
			}
		}
		c.fields(add, nil, remove)
	case p.Kind == "output" && (p.Name == "elasticsearch" || p.Name == "elasticsearch_dynamic" || p.Name == "opensearch"):
		scheme := orDefault(get("scheme"), "http")
		url := scheme + "://" + hostPort(orDefault(get("host"), "localhost"), get("port"), "9200")
		if hosts := get("hosts"); hosts != "" {
			url = list(hosts)[0]
			if !strings.Contains(url, "://") {
				url = scheme + "://" + url
			}
		}
		index := orDefault(get("index_name"), "fluentd")
		if on(get("logstash_format")) {
			index = logstashIndex(orDefault(get("logstash_prefix"), "logstash"), get("logstash_prefix_separator"), dateFormat(strings.ReplaceAll(get("logstash_dateformat"), "%Y.%m.%d", "%Y.%m.%d")))
		}
		c.es(url, get("user"), c.secret(get("password"), "ES_PASSWORD"), index)
		for _, q := range p.Params {
			if strings.HasPrefix(strings.ToLower(q.Key), "buffer.") {
				h[strings.ToLower(q.Key)] = true
				c.note(p, q, "no equivalent: sluice's buffer is the log files themselves and memory_limit; see bulk.* for request sizes")
			}
		}
		c.rest(p, h, "no equivalent: see the elasticsearch output's keys in the README")
	case p.Kind == "output" && p.Name == "stdout":
		c.console()
	case p.Kind == "output" && p.Name == "copy":
		// Each <store> is an output of its own; sluice sends every record
		// to every output anyway.
		for _, st := range stores(p) {
			c.fluentd(st)
		}
	case p.Kind == "directive":
		c.notes = append(c.notes, p.Name+" (line "+itoa(p.Line)+"): not followed; convert each file on its own")
	default:
		c.notes = append(c.notes, "<"+map[string]string{"input": "source", "filter": "filter", "output": "match"}[p.Kind]+"> @type "+p.Name+" (line "+itoa(p.Line)+"): no equivalent in sluice")
	}
}

// grep turns <regexp>/<exclude> sections (key, pattern in order) into
// keep/drop transforms.
func (c *outConfig) grep(p *Plugin, section, kind string) {
	var key string
	for _, q := range p.Params {
		switch strings.ToLower(q.Key) {
		case section + ".key":
			key = strings.TrimPrefix(q.Value, "$.")
		case section + ".pattern":
			c.filter(kind, key, strings.Trim(q.Value, "/"))
		}
	}
}

// stores splits a copy output's <store> sections into outputs: each
// store.@type starts one.
func stores(p *Plugin) []*Plugin {
	var out []*Plugin
	for _, q := range p.Params {
		key, ok := strings.CutPrefix(q.Key, "store.")
		if !ok {
			continue
		}
		if key == "@type" {
			out = append(out, &Plugin{Kind: "output", Name: strings.ToLower(q.Value), Match: p.Match, Line: q.Line})
		}
		if len(out) > 0 {
			out[len(out)-1].Params = append(out[len(out)-1].Params, Param{Key: key, Value: q.Value, Line: q.Line})
		}
	}
	return out
}
