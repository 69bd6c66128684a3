// Prints its arguments and a few auxv values that do not depend on where it
// runs; built static-pie so the loader must relocate a static ET_DYN.
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) printf("argv[%d]=%s\n", i, i == 0 ? "(self)" : argv[i]);
  printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
  printf("AT_PLATFORM=%s\n", (const char*)getauxval(AT_PLATFORM));
  printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
  printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
  printf("AT_EXECFN=%s\n", (const char*)getauxval(AT_EXECFN));
  printf("AT_UID=%lu AT_GID=%lu\n", getauxval(AT_UID), getauxval(AT_GID));
  printf("AT_RANDOM set: %s\n", getauxval(AT_RANDOM) ? "yes" : "no");
  // Static-pie or not: the entry point lies inside this program's image.
  printf("relocated: %s\n", getauxval(AT_ENTRY) != 0 ? "yes" : "no");
  return argc;
}
