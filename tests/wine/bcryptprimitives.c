/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks.
 * Rust's standard library imports ProcessPrng from it; without the DLL the
 * .exe exits under Wine with code 53 before main. This forwards to
 * RtlGenRandom (SystemFunction036 in advapi32), which Wine has.
 * It is built and placed in a throwaway Wine prefix by tests/windows.sh;
 * it is never shipped: real Windows 10 and later have the DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
