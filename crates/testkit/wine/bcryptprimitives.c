/* Test support for running Rust programs under Wine 8 (never shipped in an installer).
 *
 * Rust's standard library (1.78 and later) draws its random numbers from ProcessPrng in
 * bcryptprimitives.dll, which Windows 10/11 have and Wine 8.0 lacks: without it a Rust
 * program exits before main. This DLL provides that one function on top of RtlGenRandom
 * (SystemFunction036 in advapi32), which Wine implements. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
