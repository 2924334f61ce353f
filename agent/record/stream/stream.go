// Package stream names the output stream of a container that a log line came
// from. It is shared by the cri and docker parsers and by agent/record.
package stream

// Stream is the stream a container wrote a line to.
type Stream uint8

const (
	// Unknown means the line does not say (a non-container source, or a
	// docker line without a "stream" key).
	Unknown Stream = iota
	// Stdout is the container's standard output.
	Stdout
	// Stderr is the container's standard error.
	Stderr
)

// String returns "stdout", "stderr", or "" for Unknown and any other value.
// The result is a constant; it does not allocate.
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	default:
		return ""
	}
}

// Parse maps the exact bytes "stdout" and "stderr" to Stdout and Stderr and
// anything else to Unknown.
func Parse(b []byte) Stream {
	switch string(b) { // compiled to a comparison: no allocation
	case "stdout":
		return Stdout
	case "stderr":
		return Stderr
	default:
		return Unknown
	}
}
