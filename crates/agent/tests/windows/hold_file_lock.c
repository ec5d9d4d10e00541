/* Test program: holds an exclusive Win32 byte-range lock (LockFileEx) on FILE from OFFSET for
 * LENGTH bytes, as another program's open write transaction does, until its standard input
 * closes. Prints "locked" once it holds the lock.
 * Usage: hold_file_lock FILE OFFSET LENGTH. Exit 2: cannot open; 3: cannot lock. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int wmain(int argc, wchar_t **argv)
{
    if (argc != 4)
        return 1;
    HANDLE file = CreateFileW(argv[1], GENERIC_READ | GENERIC_WRITE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                              OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return 2;
    OVERLAPPED at = {0};
    at.Offset = (DWORD)_wtoi(argv[2]);
    if (!LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0,
                    (DWORD)_wtoi(argv[3]), 0, &at))
        return 3;
    printf("locked\n");
    fflush(stdout);
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char buf[16];
    DWORD got;
    while (ReadFile(in, buf, sizeof buf, &got, NULL) && got > 0) {
    }
    return 0;
}
