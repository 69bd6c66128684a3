// Stub code. It is copied, as one page, to kStubAddr (0x7fffffffe000) in
// the Sentry and so is present in every process the Sentry forks. It uses
// no stack and no data, only absolute constants, so it keeps working after
// it has unmapped everything else.
//
// runsc_stub_start: a freshly forked stub unmaps the whole user address
// space below the stub page (the copy of the Sentry it inherited), then
// stops itself with SIGSTOP so its tracer takes over.
//
// runsc_stub_clone: the tracer injects clone(CLONE_VM | CLONE_THREAD ...)
// here. The caller stops at the int3 with the new thread's tid in %rax;
// the new thread (%rax == 0) parks in pause() until another Sentry thread
// seizes it with PTRACE_SEIZE, and goes back to pause() when detached.
//
// runsc_stub_syscall: the injection point. The tracer sets the registers
// for a host system call (mmap of the memory file, munmap, mprotect),
// points %rip here and continues; the int3 after it stops the thread
// again with the result in %rax.
        .section .text.runsc_stub, "ax"
        .balign 4096
        .globl runsc_stub_start
        .globl runsc_stub_syscall
        .globl runsc_stub_end
        .globl runsc_stub_clone
        .globl runsc_stub_park
runsc_stub_start:
        mov $11, %eax                  // munmap(0, 0x7fffffffe000)
        xor %edi, %edi
        movabs $0x7fffffffe000, %rsi
        syscall
        mov $39, %eax                  // getpid()
        syscall
        mov %eax, %edi
        mov $19, %esi                  // SIGSTOP
        mov $62, %eax                  // kill(getpid(), SIGSTOP)
        syscall
1:      int3                           // never resumed here by the tracer
        jmp 1b
runsc_stub_syscall:
        syscall
        int3
        jmp runsc_stub_syscall
runsc_stub_clone:
        syscall
        test %rax, %rax
        jz runsc_stub_park
        int3
        jmp runsc_stub_clone
runsc_stub_park:
        mov $34, %eax                  // pause()
        syscall
        jmp runsc_stub_park
runsc_stub_end:
        .section .note.GNU-stack, "", @progbits
