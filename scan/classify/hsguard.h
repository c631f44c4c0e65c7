/* scan/classify/hsguard.h: a guard around a defect of Debian's Vectorscan (internal to
 * scan/classify/).
 *
 * libhs 5.4.9's reverse double-byte search (rvermicelliDoubleExec, used by rules such as
 * `.*ab` or `[^ ]*or`: a repeat before a two-byte literal) makes a debug copy of the text it
 * searches with snprintf(str, len + 1, "%s", text) into a 255-byte stack buffer, unconditionally,
 * even in release builds (fixed upstream: VectorCamp/vectorscan pull request 392). On a text of
 * 255 bytes or more, glibc's fortify check aborts the whole process ("buffer overflow
 * detected"); below, "%s" reads the text up to a NUL byte, past its end when it has none.
 * Neither the copy nor its result is used.
 *
 * How: this file defines __snprintf_chk, the fortified snprintf libhs calls, in our own
 * executables (the dynamic linker binds libhs's call to the executable's definition first).
 * A call from libhs's code with exactly that format and destination size writes an empty string
 * and formats nothing; every other call goes on to glibc's __vsnprintf_chk unchanged, its
 * checks included. scan__hs_guard_init (called by scan_classifier_new, which also makes the
 * linker keep this file) finds libhs's code in memory once.
 * Not for: anything else; remove it once the distribution's libhs has the fix. */
#ifndef SHIR_SCAN_CLASSIFY_HSGUARD_H
#define SHIR_SCAN_CLASSIFY_HSGUARD_H

void scan__hs_guard_init(void);

#endif /* SHIR_SCAN_CLASSIFY_HSGUARD_H */
