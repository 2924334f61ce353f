// Command otlpreceiver runs the OpenTelemetry Collector's own OTLP receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver) on OTLP/HTTP with a
// recording consumer, for sluice's otlp output tests. It is its own module
// so that the Collector's dependencies stay out of sluice's go.mod.
//
// Every export the receiver accepts is written to -out as one line of
// OTLP/JSON (plog.JSONMarshaler). -throttle N answers the first N exports
// with gRPC ResourceExhausted and a RetryInfo of -retry-after, which the
// receiver turns into 429 with a Retry-After header; -reject N answers the
// next N with InvalidArgument (400). "ready" on stdout says it listens.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4318", "OTLP/HTTP address")
	out := flag.String("out", "", "file the received logs go to, one OTLP/JSON export a line")
	throttle := flag.Int("throttle", 0, "answer the first N exports 429 with Retry-After")
	retryAfter := flag.Duration("retry-after", time.Second, "the Retry-After of a throttled export")
	reject := flag.Int("reject", 0, "answer the N exports after the throttled ones 400")
	flag.Parse()
	if err := run(*listen, *out, *throttle, *reject, *retryAfter); err != nil {
		fmt.Fprintln(os.Stderr, "otlpreceiver:", err)
		os.Exit(1)
	}
}

func run(listen, out string, throttle, reject int, retryAfter time.Duration) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	rec := &recorder{f: f, throttle: int64(throttle), reject: int64(reject), retryAfter: retryAfter}
	next, err := consumer.NewLogs(rec.consume)
	if err != nil {
		return err
	}
	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	http := cfg.Protocols.HTTP.GetOrInsertDefault()
	http.ServerConfig.NetAddr.Endpoint = listen
	set := receiver.Settings{
		ID: component.NewID(factory.Type()),
		TelemetrySettings: component.TelemetrySettings{
			Logger: zap.NewNop(), TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider(),
		},
		BuildInfo: component.NewDefaultBuildInfo(),
	}
	r, err := factory.CreateLogs(context.Background(), set, cfg, next)
	if err != nil {
		return err
	}
	if err := r.Start(context.Background(), nopHost{}); err != nil {
		return err
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return r.Shutdown(context.Background())
}

type nopHost struct{}

func (nopHost) GetExtensions() map[component.ID]component.Component { return nil }

// recorder is the consumer: it fails exports as told, then writes each
// accepted one.
type recorder struct {
	mu               sync.Mutex
	f                *os.File
	throttle, reject int64
	calls            atomic.Int64
	retryAfter       time.Duration
}

func (r *recorder) consume(_ context.Context, ld plog.Logs) error {
	n := r.calls.Add(1)
	if n <= r.throttle {
		st, err := status.New(codes.ResourceExhausted, "throttled by the test").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.retryAfter)})
		if err != nil {
			return err
		}
		return st.Err()
	}
	if n <= r.throttle+r.reject {
		return status.Error(codes.InvalidArgument, "rejected by the test")
	}
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err = r.f.Write(append(b, '\n'))
	return err
}
