/* Test program, Wine only: defines drive LETTER as the Unix folder UNIX_PATH, a removable
   drive, through Wine's mount manager (its IOCTL_MOUNTMGR_DEFINE_UNIX_DRIVE extension, the
   call winecfg makes), so that running programs see the drive arrive; without UNIX_PATH the
   drive is removed. Exits 0 on success.
   Usage: define_drive LETTER [UNIX_PATH] */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The layout of Wine's struct mountmgr_unix_drive (include/ddk/mountmgr.h, Wine 8). */
struct unix_drive {
    ULONG size, type, fs_type;
    DWORD serial;
    ULONGLONG unix_dev;
    WCHAR letter;
    USHORT mount_point_offset, device_offset, label_offset;
};
/* CTL_CODE(MOUNTMGRCONTROLTYPE 'm', 32, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS) */
#define DEFINE_UNIX_DRIVE ((0x6Du << 16) | (3u << 14) | (32u << 2))

int wmain(int argc, wchar_t **argv) {
    if (argc < 2) return 2;
    char path[1024] = {0};
    if (argc > 2) WideCharToMultiByte(CP_UTF8, 0, argv[2], -1, path, sizeof path, NULL, NULL);
    size_t len = sizeof(struct unix_drive) + (argc > 2 ? strlen(path) + 1 : 0);
    struct unix_drive *drive = calloc(1, len);
    if (!drive) return 3;
    drive->size = (ULONG)len;
    drive->type = argc > 2 ? DRIVE_REMOVABLE : DRIVE_NO_ROOT_DIR;
    drive->letter = towlower(argv[1][0]);
    if (argc > 2) {
        memcpy(drive + 1, path, strlen(path) + 1);
        drive->mount_point_offset = sizeof *drive;
    }
    HANDLE manager = CreateFileW(L"\\\\.\\MountPointManager", GENERIC_READ | GENERIC_WRITE,
                                 FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, 0);
    if (manager == INVALID_HANDLE_VALUE) return 4;
    DWORD returned = 0;
    if (!DeviceIoControl(manager, DEFINE_UNIX_DRIVE, drive, (DWORD)len, NULL, 0, &returned, NULL))
        return 5;
    return 0;
}
