package kubetest

import "syscall"

// sysProcAttr has the kernel kill a server when the test binary dies
// without running its cleanups (a -timeout panic, a SIGKILL), so no
// orphaned 300 MB kube-apiserver outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
