package otlp

import "bytes"

// severityNumber is LogRecord.severity_number (logs.proto, enum
// SeverityNumber): 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20
// ERROR, 21-24 FATAL, 0 unspecified (not written).
type severityNumber int32

const (
	severityUnspecified severityNumber = 0
	severityTrace       severityNumber = 1
	severityDebug       severityNumber = 5
	severityInfo        severityNumber = 9
	severityInfo2       severityNumber = 10
	severityWarn        severityNumber = 13
	severityError       severityNumber = 17
	severityError2      severityNumber = 18
	severityFatal       severityNumber = 21
	severityFatal2      severityNumber = 22
)

// textSeverity maps a level's text to a SeverityNumber, after the logs
// data model's Appendix B (SeverityNumber example mappings): syslog's
// names (emerg, alert, crit, err, warning, notice, info, debug, as
// collector/syslog writes them) and the common logger levels, in any
// case. An unknown text is Unspecified; the text itself is kept as
// severity_text either way.
func textSeverity(text []byte) severityNumber {
	var low [16]byte
	if len(text) > len(low) {
		return severityUnspecified
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
		return severityTrace
	case "debug", "dbg", "d", "fine", "finer", "verbose":
		return severityDebug
	case "info", "information", "informational", "i":
		return severityInfo
	case "notice", "config":
		return severityInfo2
	case "warn", "warning", "w":
		return severityWarn
	case "error", "err", "eror", "e", "severe":
		return severityError
	case "crit", "critical", "dpanic":
		return severityError2
	case "fatal", "alert", "panic", "f":
		return severityFatal
	case "emerg", "emergency":
		return severityFatal2
	}
	if bytes.HasPrefix(l, []byte("warn")) {
		return severityWarn
	}
	return severityUnspecified
}

// numberSeverity maps pino's and bunyan's numeric levels (10 trace … 60
// fatal).
func numberSeverity(n int) severityNumber {
	switch n {
	case 10:
		return severityTrace
	case 20:
		return severityDebug
	case 30:
		return severityInfo
	case 40:
		return severityWarn
	case 50:
		return severityError
	case 60:
		return severityFatal
	}
	return severityUnspecified
}
