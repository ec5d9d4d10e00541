/* Test program: delivers a tray menu choice to worktrace-tray the way Windows does when the
 * employee picks the item: WM_COMMAND with the item's command id to the tray icon's window
 * (class tray_icon_app). Wine 8 cannot open the menu from a click (its
 * Shell_NotifyIconGetRect fails, and the tray crate then shows no menu).
 * Usage: post_menu_command ID. Exit 0: posted; 2: no tray window; 3: PostMessage failed. */
#include <windows.h>
#include <stdlib.h>

int wmain(int argc, wchar_t **argv)
{
    if (argc != 2)
        return 1;
    HWND window = FindWindowW(L"tray_icon_app", NULL);
    if (!window)
        return 2;
    if (!PostMessageW(window, WM_COMMAND, (WPARAM)_wtoi(argv[1]), 0))
        return 3;
    return 0;
}
