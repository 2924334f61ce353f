package convert

import (
	"strings"
)

// fluentBit converts one Fluent Bit section.
func (c *outConfig) fluentBit(p *Plugin) {
	h := handled{}
	get := func(k string) string { h[strings.ToLower(k)] = true; v, _ := p.Get(k); return v }
	has := func(k string) bool { h[strings.ToLower(k)] = true; _, ok := p.Get(k); return ok }
	switch {
	case p.Kind == "service":
		if on(get("HTTP_Server")) {
			c.HTTP = &outHTTP{Listen: hostPort(get("HTTP_Listen"), get("HTTP_Port"), "2020")}
		}
		c.rest(p, h, "sluice has no such setting (it flushes, logs and sizes its buffers from memory_limit itself)")
	case p.Kind == "input" && p.Name == "tail":
		var paths []string
		for _, q := range p.All("Path") {
			paths = append(paths, list(q.Value)...)
		}
		h["path"] = true
		var exclude []string
		for _, q := range p.All("Exclude_Path") {
			exclude = append(exclude, list(q.Value)...)
		}
		h["exclude_path"] = true
		ml := ""
		for _, m := range append(list(get("multiline.parser")), list(get("Parser"))...) {
			switch strings.ToLower(m) {
			case "docker", "cri", "containerd":
				// sluice reads both container formats and joins their partial lines itself.
			case "java", "python", "go":
				ml = strings.ToLower(m)
			default:
				c.note(p, Param{Key: "parser", Value: m, Line: p.Line}, "no equivalent: write it as a regex transform or a multiline rule (mode: regex)")
			}
		}
		get("Docker_Mode")
		c.containers(paths, exclude, on(get("Read_from_Head")), ml)
		c.rest(p, h, "no equivalent: sluice keeps checkpoints in data_dir, bounds memory with memory_limit and cuts lines at max_line_bytes")
	case p.Kind == "input" && p.Name == "syslog":
		mode := strings.ToLower(get("Mode"))
		addr := hostPort(get("Listen"), get("Port"), "5140")
		format := ""
		switch strings.ToLower(get("Parser")) {
		case "syslog-rfc5424":
			format = "rfc5424"
		case "syslog-rfc3164", "syslog-rfc3164-local":
			format = "rfc3164"
		}
		switch mode {
		case "tcp":
			c.syslogIn(addr, "", format)
		case "udp", "":
			c.syslogIn("", addr, format)
		default:
			c.note(p, Param{Key: "Mode", Value: mode, Line: p.Line}, "no equivalent: sluice listens on TCP and UDP, not on unix sockets")
			return
		}
		c.rest(p, h, "no equivalent")
	case p.Kind == "filter" && p.Name == "kubernetes":
		c.kube(!has("Labels") || on(get("Labels")), !has("Annotations") || on(get("Annotations")))
		if on(get("Merge_Log")) {
			keep := !has("Keep_Log") || on(get("Keep_Log"))
			c.json(get("Merge_Log_Key"), keep)
		}
		for _, k := range []string{"K8S-Logging.Parser", "K8S-Logging.Exclude"} {
			if has(k) {
				c.note(p, Param{Key: k, Value: get(k), Line: p.Line}, "always on in sluice: the pod annotations sluice.io/parser and sluice.io/exclude (not fluentbit.io/…)")
			}
		}
		c.rest(p, h, "not needed: sluice reads the in-cluster service account or kubernetes.kubeconfig, and watches this node's pods")
	case p.Kind == "filter" && p.Name == "grep":
		for _, q := range p.All("Regex") {
			k, pat := splitKV(q.Value)
			c.filter("keep", strings.TrimPrefix(k, "$"), pat)
		}
		for _, q := range p.All("Exclude") {
			k, pat := splitKV(q.Value)
			c.filter("drop", strings.TrimPrefix(k, "$"), pat)
		}
		h["regex"], h["exclude"] = true, true
		c.rest(p, h, "no equivalent: several keep/drop transforms are ANDed")
	case p.Kind == "filter" && (p.Name == "modify" || p.Name == "record_modifier"):
		add, rename := map[string]string{}, map[string]string{}
		var remove []string
		for _, q := range p.Params {
			k, v := splitKV(q.Value)
			switch strings.ToLower(q.Key) {
			case "add", "set", "record":
				add[k] = v
			case "rename", "hard_rename", "copy":
				if strings.EqualFold(q.Key, "copy") {
					c.note(p, q, "no copy in sluice: renamed instead")
				}
				rename[k] = v
			case "remove", "remove_key":
				remove = append(remove, q.Value)
			case "name", "match", "match_regex", "alias":
			default:
				c.note(p, q, "no equivalent in a fields transform")
			}
		}
		c.fields(add, rename, remove)
	case p.Kind == "filter" && p.Name == "parser":
		if strings.EqualFold(get("Parser"), "json") && (get("Key_Name") == "log" || get("Key_Name") == "") {
			c.json("", false)
			get("Reserve_Data")
			c.rest(p, h, "no equivalent")
			return
		}
		c.note(p, Param{Key: "Parser", Value: get("Parser"), Line: p.Line}, "only the json parser on log is converted: write others as a regex or logfmt transform")
	case p.Kind == "output" && (p.Name == "es" || p.Name == "elasticsearch"):
		scheme := "http"
		if on(get("tls")) {
			scheme = "https"
		}
		url := scheme + "://" + hostPort(orDefault(get("Host"), "127.0.0.1"), get("Port"), "9200")
		index := orDefault(get("Index"), "fluent-bit")
		if on(get("Logstash_Format")) {
			index = logstashIndex(orDefault(get("Logstash_Prefix"), "logstash"), get("Logstash_Prefix_Separator"), dateFormat(get("Logstash_DateFormat")))
		}
		c.es(url, get("HTTP_User"), c.secret(get("HTTP_Passwd"), "ES_PASSWORD"), index)
		for _, k := range []string{"Generate_ID", "Suppress_Type_Name", "Type", "Replace_Dots", "tls.verify", "Trace_Error", "Retry_Limit"} {
			get(k)
		}
		c.rest(p, h, "no equivalent: see the elasticsearch output's keys in the README")
	case p.Kind == "output" && p.Name == "stdout":
		c.console()
	case p.Kind == "parser" || p.Kind == "multiline_parser":
		c.notes = append(c.notes, "parser "+get("Name")+" (line "+itoa(p.Line)+"): parsers are transforms in sluice (json, logfmt, regex with a pattern or preset)")
	case p.Kind == "directive":
		c.notes = append(c.notes, p.Name+" (line "+itoa(p.Line)+"): not followed; convert each file on its own")
	default:
		c.notes = append(c.notes, p.Kind+" "+p.Name+" (line "+itoa(p.Line)+"): no equivalent in sluice")
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// dateFormat keeps a strftime date that sluice's index names take (%Y %m
// %d %H); "" for the default.
func dateFormat(f string) string {
	if f == "" || !strftimeOK.MatchString(f) {
		return ""
	}
	return f
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}
