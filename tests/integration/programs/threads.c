// 8 pthreads incrementing one counter under a mutex, joined with their results.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void* work(void* arg) {
  for (int i = 0; i < 10000; i++) { pthread_mutex_lock(&mu); counter++; pthread_mutex_unlock(&mu); }
  return arg;
}
int main(void) {
  pthread_t t[8];
  for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, work, (void*)i);
  long sum = 0;
  for (int i = 0; i < 8; i++) { void* r; pthread_join(t[i], &r); sum += (long)r; }
  printf("counter %ld sum %ld\n", counter, sum);
  return 0;
}
