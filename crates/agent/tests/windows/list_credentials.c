/* Test program: lists the calling user's Windows Credential Manager entries, one a line:
 * the target name, a tab, and the stored secret as hex bytes (as another program with the
 * user's rights could read them). Exit 0 also when there are none. */
#include <windows.h>
#include <wincred.h>
#include <stdio.h>

int wmain(void)
{
    DWORD count = 0;
    PCREDENTIALW *creds = NULL;
    if (!CredEnumerateW(NULL, 0, &count, &creds))
        return GetLastError() == ERROR_NOT_FOUND ? 0 : 2;
    for (DWORD i = 0; i < count; i++) {
        wprintf(L"%ls\t", creds[i]->TargetName);
        for (DWORD b = 0; b < creds[i]->CredentialBlobSize; b++)
            wprintf(L"%02x", creds[i]->CredentialBlob[b]);
        wprintf(L"\n");
    }
    CredFree(creds);
    return 0;
}
