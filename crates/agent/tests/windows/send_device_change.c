/* Test program: sends WM_DEVICECHANGE with a DEV_BROADCAST_VOLUME for drive LETTER to the
   top-level window of class CLASS, as Windows broadcasts a volume's arrival (or, with
   "remove", its removal). Exits 0 when the window answered TRUE, 3 when there is no such
   window, 4 when the send failed, 5 when the window did not take the message.
   Usage: send_device_change CLASS LETTER [arrival|remove] */
#include <windows.h>
#include <dbt.h>

int wmain(int argc, wchar_t **argv) {
    if (argc < 3) return 2;
    HWND window = FindWindowW(argv[1], NULL);
    if (!window) return 3;
    DEV_BROADCAST_VOLUME volume = {0};
    volume.dbcv_size = sizeof volume;
    volume.dbcv_devicetype = DBT_DEVTYP_VOLUME;
    volume.dbcv_unitmask = 1u << (towupper(argv[2][0]) - L'A');
    WPARAM event = argc > 3 && argv[3][0] == L'r' ? DBT_DEVICEREMOVECOMPLETE : DBT_DEVICEARRIVAL;
    DWORD_PTR answer = 0;
    if (!SendMessageTimeoutW(window, WM_DEVICECHANGE, event, (LPARAM)&volume,
                             SMTO_ABORTIFHUNG, 10000, &answer))
        return 4;
    return answer == TRUE ? 0 : 5;
}
