package otlp

import (
	"bytes"

	"go.opentelemetry.io/collector/pdata/plog"
)

// textSeverity maps a level's text to a SeverityNumber, after the logs
// data model's Appendix B (SeverityNumber example mappings): syslog's
// names (emerg, alert, crit, err, warning, notice, info, debug, as
// collector/syslog writes them) and the common logger levels, in any
// case. An unknown text is Unspecified; the text itself is kept as
// severity_text either way.
func textSeverity(text []byte) plog.SeverityNumber {
	var low [16]byte
	if len(text) > len(low) {
		return plog.SeverityNumberUnspecified
	}
	l := low[:len(text)]
	for i, c := range text {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	switch string(l) {
	case "trace", "trc", "t", "finest":
		return plog.SeverityNumberTrace
	case "debug", "dbg", "d", "fine", "finer", "verbose":
		return plog.SeverityNumberDebug
	case "info", "information", "informational", "i":
		return plog.SeverityNumberInfo
	case "notice", "config":
		return plog.SeverityNumberInfo2
	case "warn", "warning", "w":
		return plog.SeverityNumberWarn
	case "error", "err", "eror", "e", "severe":
		return plog.SeverityNumberError
	case "crit", "critical", "dpanic":
		return plog.SeverityNumberError2
	case "fatal", "alert", "panic", "f":
		return plog.SeverityNumberFatal
	case "emerg", "emergency":
		return plog.SeverityNumberFatal2
	}
	if bytes.HasPrefix(l, []byte("warn")) {
		return plog.SeverityNumberWarn
	}
	return plog.SeverityNumberUnspecified
}

// numberSeverity maps pino's and bunyan's numeric levels (10 trace … 60
// fatal).
func numberSeverity(n int) plog.SeverityNumber {
	switch n {
	case 10:
		return plog.SeverityNumberTrace
	case 20:
		return plog.SeverityNumberDebug
	case 30:
		return plog.SeverityNumberInfo
	case 40:
		return plog.SeverityNumberWarn
	case 50:
		return plog.SeverityNumberError
	case 60:
		return plog.SeverityNumberFatal
	}
	return plog.SeverityNumberUnspecified
}
